import Foundation

/// The early stopping both heads train with: keeps the model of the best validation loss, and ends
/// training after `patience` epochs without a better one; its `phase` is the training report.
struct EarlyStopping<Model> {
    private(set) var best: Model
    private let initialLoss: Double, patience: Int, learningRate: Float
    private let start = Date()
    private var bestLoss: Double, bestEpoch = 0, trainingLossAtBest = Double.nan
    private var epochs = 0, stoppedEarly = false

    init(_ model: Model, validationLoss: Double, patience: Int, learningRate: Float) {
        best = model
        initialLoss = validationLoss
        bestLoss = validationLoss
        self.patience = patience
        self.learningRate = learningRate
    }

    /// Records an epoch's losses (`model` is read only when it is the best so far); false: stop now.
    mutating func record(epoch: Int, validation: Double, training: Double, model: () -> Model) -> Bool {
        epochs = epoch
        if validation < bestLoss - 1e-7 {
            (best, bestLoss, bestEpoch, trainingLossAtBest) = (model(), validation, epoch, training)
        } else if epoch - bestEpoch >= patience {
            stoppedEarly = true
        }
        return !stoppedEarly
    }

    var phase: HeadReport.Phase {
        HeadReport.Phase(epochs: epochs, bestEpoch: bestEpoch, stoppedEarly: stoppedEarly, learningRate: learningRate,
                         initialValidationLoss: initialLoss, bestValidationLoss: bestLoss,
                         trainingLossAtBest: trainingLossAtBest.isNaN ? 0 : trainingLossAtBest,
                         seconds: Date().timeIntervalSince(start))
    }
}
