import Foundation
@testable import Presentation
import MailGaugeCore
import Testing

@Suite("usage chart and HTML escaping")
struct UsageChartTests {
    static func points(_ n: Int) -> [UsageChart.Point] {
        (0..<n).map { UsageChart.Point(at: Date(timeIntervalSince1970: Double($0) * 900), usedBytes: Double($0 % 97), limitBytes: 1000) }
    }

    @Test("a polyline point per reading up to the cap; beyond, each bucket's peak, the highest kept")
    func points() {
        let svg = UsageChart.svg(Self.points(10), since: Date(timeIntervalSince1970: 0), now: Date(timeIntervalSince1970: 9000),
                                 fullAt: nil, title: "t")
        #expect(svg.contains("data-points=\"10\"") && svg.contains("class=\"limit\"") && !svg.contains("class=\"forecast\""))
        let many = UsageChart.thinned(Self.points(10_000))
        #expect(many.count == UsageChart.maxPoints && many.map(\.usedBytes).max() == 96)
    }

    @Test("the forecast runs to the full date inside the chart, and is cut at its edge beyond")
    func forecast() {
        let start = Date(timeIntervalSince1970: 0), now = Date(timeIntervalSince1970: 8100)
        let inside = UsageChart.svg(Self.points(10), since: start, now: now, fullAt: Date(timeIntervalSince1970: 10_000), title: "t")
        #expect(inside.contains("class=\"forecast\"") && inside.contains(Reports.day(Date(timeIntervalSince1970: 10_000))))
        let beyond = UsageChart.svg(Self.points(10), since: start, now: now, fullAt: Date(timeIntervalSince1970: 10_000_000), title: "t")
        #expect(beyond.contains("class=\"forecast\""))
        // The line ends at the right edge (x = width - right), not past it.
        #expect(beyond.contains("x2=\"\(SizeFormat.fixed(UsageChart.width - UsageChart.right, digits: 1))\""))
    }

    @Test("markup, quotes and control characters from a server are text")
    func escaping() {
        #expect(HTML.escape("<script>\"x\"&'y'</script>") == "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;")
        #expect(HTML.escape("a\u{1B}b\u{0}") == "a\u{FFFD}b\u{FFFD}")
        #expect(HTMLPages.anchor("a b/<c>") == "account-a.20b.2f.3cc.3e")
    }
}
