/// How well two partitions of the same items agree, corrected for chance (Hubert & Arabie 1985):
/// 1 for the same partition (whatever the label names), about 0 for unrelated ones, negative when
/// worse than chance. From the contingency table n_ij (items with label i in `a` and j in `b`), its
/// row sums a_i and column sums b_j, with C(x) = x(x−1)/2:
///
///     ARI = (Σ C(n_ij) − E) / ((Σ C(a_i) + Σ C(b_j)) / 2 − E),   E = Σ C(a_i) · Σ C(b_j) / C(n)
///
/// When both partitions are trivial (everything in one cluster, or every item alone) the
/// denominator is 0 and the ARI is 1 (scikit-learn's convention).
public func adjustedRandIndex<A: Hashable, B: Hashable>(_ a: [A], _ b: [B]) -> Double {
    precondition(a.count == b.count, "partitions of different lengths")
    let n = a.count
    func pairs(_ x: Int) -> Double { Double(x) * Double(x - 1) / 2 }
    var table: [Pair<A, B>: Int] = [:], rows: [A: Int] = [:], columns: [B: Int] = [:]
    for (x, y) in zip(a, b) {
        table[Pair(a: x, b: y), default: 0] += 1
        rows[x, default: 0] += 1
        columns[y, default: 0] += 1
    }
    let index = table.values.reduce(0) { $0 + pairs($1) }
    let sumA = rows.values.reduce(0) { $0 + pairs($1) }, sumB = columns.values.reduce(0) { $0 + pairs($1) }
    let expected = n < 2 ? 0 : sumA * sumB / pairs(n)
    let maximum = (sumA + sumB) / 2
    guard maximum != expected else { return 1 }
    return (index - expected) / (maximum - expected)
}

private struct Pair<A: Hashable, B: Hashable>: Hashable {
    let a: A
    let b: B
}
