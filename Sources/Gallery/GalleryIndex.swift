import CNNRuntime
import Foundation
import GRDB

/// One person found for a query face: the name and the Euclidean distance to their closest embedding.
public struct GalleryMatch: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var distance: Float
    public init(name: String, distance: Float) { self.name = name; self.distance = distance }
    public var description: String { "\(name) \(distance)" }
}

/// Every embedding of a gallery in one contiguous row-major matrix (n × 128) with the row → person
/// map, for nearest-person search through BLAS:
///
///     ‖e − q‖² = ‖e‖² + ‖q‖² − 2 e·q
///
/// The row norms ‖e‖² are computed once; a query is then one sgemv over the whole matrix (y = ‖e‖² −
/// 2 E q, memory-bound: the matrix is read once), a pass keeping each person's best row, and a
/// partial selection of the k best people. The distances of those are recomputed directly from the
/// vectors, so what is reported is exact (the expansion above loses digits for near-identical vectors).
/// Several queries share one pass over the matrix with `nearestMany` (sgemm, in blocks of rows).
///
/// Immutable after construction; safe to query from several threads at once.
public final class GalleryIndex: @unchecked Sendable {
    public static let dimension = Embedding.dimension
    /// Person index → name (people with no embeddings are left out).
    public let names: [String]
    /// The model identity of the gallery the embeddings come from (nil for an index built from arrays).
    public let modelIdentity: String?
    /// Number of embeddings (matrix rows).
    public let count: Int
    let matrix: [Float]
    let rowPerson: [Int32]
    let rowNorms: [Float]

    /// An index over `matrix` (rows of 128 numbers) where row i belongs to `names[rowPerson[i]]`.
    public init(names: [String], rowPerson: [Int32], matrix: [Float], modelIdentity: String? = nil) throws {
        guard matrix.count == rowPerson.count * Self.dimension else {
            throw GalleryError("index: \(matrix.count) numbers for \(rowPerson.count) rows of \(Self.dimension)")
        }
        guard rowPerson.allSatisfy({ $0 >= 0 && Int($0) < names.count }) else { throw GalleryError("index: a row's person is out of range") }
        self.names = names
        self.rowPerson = rowPerson
        self.matrix = matrix
        self.modelIdentity = modelIdentity
        count = rowPerson.count
        rowNorms = Self.squaredNorms(matrix, rows: rowPerson.count)
    }

    /// All embeddings of `gallery`, which must have been opened with its model identity (so the
    /// queries, made with the same model, are comparable).
    public convenience init(gallery: Gallery) throws {
        guard gallery.identityChecked else {
            throw GalleryError("\(gallery.path): open the gallery with the model identity to match faces against it")
        }
        let (names, rowPerson, matrix) = try gallery.read { db -> ([String], [Int32], [Float]) in
            var names: [String] = []
            var personIndex: [Int64: Int32] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM people WHERE id IN (SELECT person_id FROM embeddings) ORDER BY name") {
                personIndex[row["id"]] = Int32(names.count)
                names.append(row["name"])
            }
            let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM embeddings") ?? 0
            var rowPerson = [Int32](repeating: 0, count: n)
            var matrix = [Float](repeating: 0, count: n * Self.dimension)
            var i = 0
            try matrix.withUnsafeMutableBufferPointer { m in
                let rows = try Row.fetchCursor(db, sql: "SELECT person_id, vector FROM embeddings ORDER BY person_id, id")
                while let row = try rows.next(), i < n {
                    guard let person = personIndex[row["person_id"]] else { continue }
                    let blob: Data = row["vector"]
                    guard Embedding.decode(blob, into: m.baseAddress! + i * Self.dimension) else {
                        throw GalleryError("\(gallery.path): an embedding of \(blob.count) bytes (corrupt gallery)")
                    }
                    rowPerson[i] = person
                    i += 1
                }
            }
            return (names, rowPerson, matrix)
        }
        try self.init(names: names, rowPerson: rowPerson, matrix: matrix, modelIdentity: gallery.modelIdentity)
    }

    static func squaredNorms(_ matrix: [Float], rows: Int) -> [Float] {
        matrix.withUnsafeBufferPointer { m in
            [Float](unsafeUninitializedCapacity: rows) { out, count in
                for r in 0..<rows {
                    let row = m.baseAddress! + r * dimension
                    var s: Float = 0
                    for j in 0..<dimension { s += row[j] * row[j] }
                    out[r] = s
                }
                count = rows
            }
        }
    }

    /// The `k` nearest people to `query` (each person's closest embedding), nearest first.
    public func nearest(_ query: [Float], k: Int = 1) throws -> [GalleryMatch] {
        try Embedding.validate(query, "query")
        guard count > 0, k > 0 else { return [] }
        // y = ‖e‖² − 2 E q: the norms copied in as y, then one sgemv with alpha −2, beta 1.
        var y = rowNorms
        matrix.withUnsafeBufferPointer { m in
            query.withUnsafeBufferPointer { q in
                y.withUnsafeMutableBufferPointer { out in
                    LinearAlgebra.sgemv(m: count, n: Self.dimension, alpha: -2, a: m.baseAddress!, lda: Self.dimension,
                                        x: q.baseAddress!, beta: 1, y: out.baseAddress!)
                }
            }
        }
        return y.withUnsafeBufferPointer { select(scores: $0.baseAddress!, stride: 1, query: query, k: k) }
    }

    /// `nearest` for several queries with one pass over the matrix: blocks of rows times all queries
    /// through sgemm. Result i belongs to query i.
    public func nearestMany(_ queries: [[Float]], k: Int = 1) throws -> [[GalleryMatch]] {
        for (i, q) in queries.enumerated() { try Embedding.validate(q, "query \(i + 1)") }
        if queries.count <= 1 { return try queries.map { try nearest($0, k: k) } }
        guard count > 0, k > 0 else { return queries.map { _ in [] } }
        let m = queries.count, d = Self.dimension
        let q = queries.flatMap { $0 }
        // Each block's scores (block × m) stay in cache while the best row per person is updated.
        let block = max(64, min(count, 262_144 / m))
        var scores = [Float](repeating: 0, count: block * m)
        // best[j * people + p]: query j's smallest ‖e‖² − 2 e·q over person p's rows, and that row.
        let people = names.count
        var best = [Float](repeating: .infinity, count: m * people)
        var bestRow = [Int32](repeating: -1, count: m * people)
        matrix.withUnsafeBufferPointer { e in
            q.withUnsafeBufferPointer { qp in
                scores.withUnsafeMutableBufferPointer { s in
                    var start = 0
                    while start < count {
                        let rows = min(block, count - start)
                        // S[rows × m] = E[start..<start+rows] · Qᵀ
                        LinearAlgebra.sgemm(transB: true, m: rows, n: m, k: d, a: e.baseAddress! + start * d, lda: d,
                                            b: qp.baseAddress!, ldb: d, c: s.baseAddress!, ldc: m)
                        for r in 0..<rows {
                            let row = start + r, p = Int(rowPerson[row]), norm = rowNorms[row]
                            for j in 0..<m {
                                let v = norm - 2 * s[r * m + j]
                                if v < best[j * people + p] { best[j * people + p] = v; bestRow[j * people + p] = Int32(row) }
                            }
                        }
                        start += rows
                    }
                }
            }
        }
        return (0..<m).map { j in
            best.withUnsafeBufferPointer { b in
                bestRow.withUnsafeBufferPointer { br in
                    topPeople(best: b.baseAddress! + j * people, bestRow: br.baseAddress! + j * people, query: queries[j], k: k)
                }
            }
        }
    }

    /// Best row per person from per-row scores (‖e‖² − 2 e·q), then the k best people.
    private func select(scores: UnsafePointer<Float>, stride: Int, query: [Float], k: Int) -> [GalleryMatch] {
        let people = names.count
        var best = [Float](repeating: .infinity, count: people)
        var bestRow = [Int32](repeating: -1, count: people)
        best.withUnsafeMutableBufferPointer { b in
            bestRow.withUnsafeMutableBufferPointer { br in
                rowPerson.withUnsafeBufferPointer { rp in
                    for row in 0..<count {
                        let v = scores[row * stride], p = Int(rp[row])
                        if v < b[p] { b[p] = v; br[p] = Int32(row) }
                    }
                }
            }
        }
        return best.withUnsafeBufferPointer { b in
            bestRow.withUnsafeBufferPointer { br in topPeople(best: b.baseAddress!, bestRow: br.baseAddress!, query: query, k: k) }
        }
    }

    /// Partial selection of the people with the smallest scores (a few more than k, as candidates),
    /// exact distances for them, and the k nearest in order.
    private func topPeople(best: UnsafePointer<Float>, bestRow: UnsafePointer<Int32>, query: [Float], k: Int) -> [GalleryMatch] {
        let people = names.count
        let want = min(people, k + 4)
        // A sorted list of `want` candidates (score, person); a new one enters only below the worst.
        var candidates: [(score: Float, person: Int)] = []
        candidates.reserveCapacity(want + 1)
        for p in 0..<people where bestRow[p] >= 0 {
            let v = best[p]
            if candidates.count == want {
                guard v < candidates[want - 1].score else { continue }
                candidates.removeLast()
            }
            var lo = 0, hi = candidates.count
            while lo < hi { let mid = (lo + hi) / 2; if candidates[mid].score <= v { lo = mid + 1 } else { hi = mid } }
            candidates.insert((v, p), at: lo)
        }
        var matches = candidates.map { c in GalleryMatch(name: names[c.person], distance: exactDistance(row: Int(bestRow[c.person]), query)) }
        matches.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.name < $1.name) }
        return Array(matches.prefix(k))
    }

    /// ‖e_row − q‖ computed from the differences.
    func exactDistance(row: Int, _ query: [Float]) -> Float {
        matrix.withUnsafeBufferPointer { m in
            var s: Float = 0
            let e = m.baseAddress! + row * Self.dimension
            for j in 0..<Self.dimension { let d = e[j] - query[j]; s += d * d }
            return s.squareRoot()
        }
    }
}
