//! What zkonnx does not prove by the nature of the op, as opposed to ops it has yet to learn:
//! strings, randomness, complex spectra, decoded bytes, and outputs whose shape depends on
//! the data, which are not fixed functions from fixed-shape numeric tensors to fixed-shape
//! numeric tensors (what a circuit proves); and training steps and losses, which are not
//! inference.

use serde::Serialize;

/// Why an op is out of scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    /// Operates on strings (text processing, string labels).
    Strings,
    /// Draws random numbers: a proof of a sample is not a proof of a function.
    Random,
    /// A training step (optimizer updates, gradients).
    Training,
    /// A training loss of predictions against labels (`NegativeLogLikelihoodLoss`,
    /// `SoftmaxCrossEntropyLoss`): computed while training, not at inference.
    Loss,
    /// Complex-valued spectra (`DFT`, `STFT`).
    Complex,
    /// Decodes encoded bytes (images).
    EncodedBytes,
    /// Optional or sequence values rather than tensors.
    NotATensor,
    /// The output's shape depends on the input values (`NonZero`, `Unique`, …).
    DataDependentShape,
}

impl Nature {
    /// A few words for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Nature::Strings => "it operates on strings",
            Nature::Random => "it draws random numbers",
            Nature::Training => "it is a training step",
            Nature::Loss => "it is a training loss, computed while training, not at inference",
            Nature::Complex => "it yields complex numbers",
            Nature::EncodedBytes => "it decodes encoded bytes",
            Nature::NotATensor => "it operates on optional or sequence values",
            Nature::DataDependentShape => "its output shape depends on the input values",
        }
    }
}

const OUT_OF_SCOPE: &[(&str, Nature)] = &[
    ("StringNormalizer", Nature::Strings),
    ("StringSplit", Nature::Strings),
    ("StringConcat", Nature::Strings),
    ("RegexFullMatch", Nature::Strings),
    ("TfIdfVectorizer", Nature::Strings),
    ("LabelEncoder", Nature::Strings),
    ("ZipMap", Nature::Strings),
    ("RandomNormal", Nature::Random),
    ("RandomUniform", Nature::Random),
    ("RandomNormalLike", Nature::Random),
    ("RandomUniformLike", Nature::Random),
    ("Multinomial", Nature::Random),
    ("Bernoulli", Nature::Random),
    ("Adagrad", Nature::Training),
    ("Adam", Nature::Training),
    ("Momentum", Nature::Training),
    ("Gradient", Nature::Training),
    ("NegativeLogLikelihoodLoss", Nature::Loss),
    ("SoftmaxCrossEntropyLoss", Nature::Loss),
    ("DFT", Nature::Complex),
    ("STFT", Nature::Complex),
    ("ImageDecoder", Nature::EncodedBytes),
    ("OptionalHasElement", Nature::NotATensor),
    ("OptionalGetElement", Nature::NotATensor),
    ("Optional", Nature::NotATensor),
    ("SequenceConstruct", Nature::NotATensor),
    ("SequenceAt", Nature::NotATensor),
    ("SequenceEmpty", Nature::NotATensor),
    ("SequenceInsert", Nature::NotATensor),
    ("SequenceErase", Nature::NotATensor),
    ("SequenceLength", Nature::NotATensor),
    ("SequenceMap", Nature::NotATensor),
    ("SplitToSequence", Nature::NotATensor),
    ("ConcatFromSequence", Nature::NotATensor),
    ("NonZero", Nature::DataDependentShape),
    ("Unique", Nature::DataDependentShape),
    ("NonMaxSuppression", Nature::DataDependentShape),
];

/// Why an op type is out of scope, if it is.
pub fn out_of_scope(op_type: &str) -> Option<Nature> {
    by_op_type(OUT_OF_SCOPE, op_type)
}

/// The entry for `op_type` in a table keyed by ONNX op type (the op tables, this one).
pub(crate) fn by_op_type<T: Copy>(table: &[(&str, T)], op_type: &str) -> Option<T> {
    table.iter().find(|(t, _)| *t == op_type).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_nature_of_out_of_scope_ops() {
        assert_eq!(out_of_scope("RandomNormal"), Some(Nature::Random));
        assert_eq!(out_of_scope("NonZero"), Some(Nature::DataDependentShape));
        assert_eq!(out_of_scope("Conv"), None);
    }
}
