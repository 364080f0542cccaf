import Foundation

/// The number format convolutions compute in. `bf16` (opt-in) runs convolutions on oneDNN with
/// bfloat16 activations and weights, accumulating in float32; every other op stays float32.
public enum Precision: String, Sendable, CaseIterable {
    case fp32, bf16
}

/// The precision a session asked for, the one it runs, and why they differ.
public struct PrecisionChoice: Sendable {
    public let requested: Precision
    public let effective: Precision
    /// One line for the user when bf16 was asked for but fp32 runs; nil otherwise.
    public let note: String?

    static func resolve(_ requested: Precision) -> PrecisionChoice {
        guard requested == .bf16 else { return PrecisionChoice(requested: requested, effective: requested, note: nil) }
        if let reason = BF16Support.missingReason {
            return PrecisionChoice(requested: .bf16, effective: .fp32, note: "\(reason); running fp32")
        }
        return PrecisionChoice(requested: .bf16, effective: .bf16, note: nil)
    }
}
