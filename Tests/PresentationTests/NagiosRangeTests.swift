import Presentation
import Testing

@Suite("monitoring-plugins threshold ranges")
struct NagiosRangeTests {
    func alerts(_ range: String, _ values: [Double]) -> [Bool] {
        let r = NagiosRange(range)!
        return values.map { r.alerts($0) }
    }

    @Test("the guidelines' table: N, N:, ~:N, N:M, @N:M; a trailing %")
    func table() {
        #expect(alerts("10", [-1, 0, 10, 10.1]) == [true, false, false, true])
        #expect(alerts("10:", [9.9, 10, 1000]) == [true, false, false])
        #expect(alerts("~:10", [-1000, 10, 10.1]) == [false, false, true])
        #expect(alerts("10:20", [9, 10, 20, 21]) == [true, false, false, true])
        #expect(alerts("@10:20", [9, 10, 20, 21]) == [false, true, true, false])
        #expect(alerts("80%", [79, 80, 80.5]) == [false, false, true])
        #expect(NagiosRange("90")?.upperBound == 90 && NagiosRange("@0:90")?.upperBound == nil && NagiosRange("10:")?.upperBound == nil)
    }

    @Test("malformed ranges are refused")
    func malformed() {
        for bad in ["", "x", "20:10", "1:2:3", "@", "nan", "inf:"] { #expect(NagiosRange(bad) == nil, "\(bad)") }
    }
}
