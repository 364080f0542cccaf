import ArgumentParser
import Foundation
import Gallery
import MetricLearning

extension MetricHead.Method: ExpressibleByArgument {}
extension TripletSelection: ExpressibleByArgument {}

/// `cnnpipe gallery train`: a metric learned from the gallery's own photos (see docs/GALLERY.md).
struct GalleryTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Learn a face metric for this gallery from its people's photos (triplet and/or binary head).",
        discussion: """
        Needs several photos per person: people with one photo are skipped (a note says so), and at least \
        two people need three photos or more (part of each person's photos is held out for validation). \
        --method triplet learns a linear map W (128 x 128, from the identity) followed by L2 normalisation \
        with the triplet loss over hard (default: each anchor's farthest positive and closest negative) \
        or semi-hard triplets; binary learns a logistic unit on \
        |f(a) - f(b)| giving P(same person); both learns the triplet head, then the logistic unit on top of \
        it. Training stops when the validation loss has not improved for --patience epochs; the best \
        weights are kept. The head is stored in the gallery with its report and used by faces identify, \
        faces verify --gallery and the identify stage from then on (--no-head there compares plain \
        distances). Prints the held-out accuracy / EER / AUC before and after.
        """)

    @OptionGroup var galleryOption: GalleryOption
    @Option(help: "triplet, binary or both.") var method: MetricHead.Method = .both
    @Option(help: "Triplets: semi-hard or hard.") var selection: TripletSelection = .hard
    @Option(help: "Triplet margin alpha (squared distances of unit vectors, 0-4).") var margin: Float = 0.5
    @Option(help: "Adam learning rate of the triplet head.") var learningRate: Float = 1e-2
    @Option(help: "Adam learning rate of the binary head.") var binaryLearningRate: Float = 0.05
    @Option(help: "Most epochs per head.") var epochs = 300
    @Option(help: "Stop after this many epochs without a better validation loss.") var patience = 25
    @Option(help: "Part of each person's photos held out for validation.") var holdout = 0.25
    @Option(help: "Seed of the split, batches and pair sampling.") var seed: UInt64 = 1
    @Option(help: "Worker threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Train and report, but do not store the head.") var dryRun = false
    @Flag(help: "Print the training progress on stderr.") var verbose = false
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        guard margin > 0, margin <= 4 else { throw ValidationError("--margin must be in (0, 4]") }
        guard learningRate > 0, binaryLearningRate > 0 else { throw ValidationError("learning rates must be positive") }
        guard epochs >= 1, patience >= 1 else { throw ValidationError("--epochs and --patience must be at least 1") }
        guard holdout > 0, holdout < 1 else { throw ValidationError("--holdout must be between 0 and 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let gallery = try galleryOption.open()
        let set = try orFail { try gallery.trainingSet() }
        guard set.count > 0 else { fail("\(gallery.path): the gallery has no embeddings; enrol people first") }
        var options = HeadTrainingOptions()
        options.method = method; options.selection = selection; options.margin = margin
        options.tripletLearningRate = learningRate; options.binaryLearningRate = binaryLearningRate
        options.maxEpochs = epochs; options.patience = patience; options.validationFraction = holdout
        options.seed = seed; options.threads = threads
        let head = try orFail {
            try HeadTrainer.train(set, options: options) { line in if verbose { warnLine(line) } }
        }
        if !head.report.skippedPeople.isEmpty {
            warnLine("note: skipped \(head.report.skippedPeople.count) people with a single photo: \(head.report.skippedPeople.joined(separator: ", "))")
        }
        if !dryRun { try orFail { try gallery.saveHead(head) } }
        if json {
            let data = try orFail { try sortedEncoder().encode(head.report) }
            print(String(decoding: data, as: UTF8.self))
        } else {
            head.report.lines.forEach { print($0) }
            print(String(format: "threshold %.4f (head distance)%@; %.1f s", head.threshold,
                         dryRun ? "; not stored (--dry-run)" : "; stored in \(gallery.path)", head.report.seconds))
        }
    }
}

/// `cnnpipe gallery head`: the stored head's report, or its removal.
struct GalleryHead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "head", abstract: "Show the gallery's learned head (its training report), or remove it.")

    @OptionGroup var galleryOption: GalleryOption
    @Flag(help: "Remove the head: matching goes back to the plain distance.") var remove = false
    @Flag(help: "Print the report as JSON.") var json = false

    func run() throws {
        let gallery = try galleryOption.open()
        if remove {
            let n = try orFail { try gallery.removeHeads() }
            print(n == 0 ? "\(gallery.path) has no head" : "removed the head of \(gallery.path)")
            return
        }
        guard let head = try orFail({ try gallery.currentHead() }) else { fail("\(gallery.path) has no head (train one with 'cnnpipe gallery train')") }
        if json {
            print(String(decoding: try orFail { try sortedEncoder().encode(head.report) }, as: UTF8.self))
        } else {
            print("method: \(head.method.rawValue), threshold \(head.threshold), trained \(head.createdAt)")
            head.report.lines.forEach { print($0) }
        }
    }
}

/// `cnnpipe gallery evaluate`: verification over every pair of another gallery's embeddings.
struct GalleryEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate", abstract: "Verification accuracy / EER / AUC of the plain distance and of this gallery's head on another gallery's photos.",
        discussion: """
        Every pair of embeddings of TEST (same person when the names match) is scored by the plain distance \
        (at 0.6), by the head's distance (at its threshold) and by its verifier (same at P >= 0.5). Both \
        galleries must hold embeddings of the same model.
        """)

    @OptionGroup var galleryOption: GalleryOption
    @Argument(help: "The gallery whose photos are the test set.") var test: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let gallery = try galleryOption.open()
        let other = try orFail { try Gallery(path: test, create: false) }
        guard let a = gallery.modelIdentity, let b = other.modelIdentity, a == b else {
            fail("\(test): its embeddings come from another model than \(gallery.path)'s (or one of them is empty)")
        }
        let set = try orFail { try other.trainingSet() }
        let head = try orFail { try gallery.currentHead() }
        let pairs = set.allPairs()
        guard !pairs.same.isEmpty, !pairs.different.isEmpty else { fail("\(test): needs two photos of one person and two people") }
        var results: [(String, VerificationSummary)] = []
        let plain = HeadEvaluation.distances(set.vectors, pairs)
        results.append(("plain distance", Verification.summary(same: plain.same, different: plain.different, threshold: FaceMatcher.plainTolerance)))
        if let head {
            let f = head.embed(set.vectors, rows: set.count)
            if head.transform != nil {
                let d = HeadEvaluation.distances(f, pairs)
                results.append(("head distance", Verification.summary(same: d.same, different: d.different, threshold: head.threshold)))
            }
            if head.verifier != nil {
                let s = HeadEvaluation.dissimilarities(head, f, pairs)
                results.append(("verifier", Verification.summary(same: s.same, different: s.different, threshold: 1 - MetricHead.probabilityThreshold)))
            }
        } else {
            warnLine("note: \(gallery.path) has no head; only the plain distance is measured")
        }
        if json {
            let object = Dictionary(uniqueKeysWithValues: results.map { ($0.0, $0.1) })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try orFail { try encoder.encode(object) }, as: UTF8.self))
        } else {
            for (name, s) in results { print("\(name): \(s.line)") }
        }
    }
}

func warnLine(_ line: String) {
    FileHandle.standardError.write(Data("cnnpipe: \(line)\n".utf8))
}

/// JSON with sorted keys: the same report prints the same text.
func sortedEncoder() -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    return e
}
