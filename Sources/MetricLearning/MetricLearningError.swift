/// A metric-learning error (a head or training set that does not fit, too little data to train):
/// one line, meant to be printed as it is.
public struct MetricLearningError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
