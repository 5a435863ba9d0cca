extension Array {
    /// `filter`, sharing this array's storage when it keeps every element: at 10,000
    /// accounts a copy of the targets or the states is megabytes of a pass's peak.
    func keeping(_ isIncluded: (Element) -> Bool) -> [Element] {
        allSatisfy(isIncluded) ? self : filter(isIncluded)
    }
}
