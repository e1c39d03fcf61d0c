//! `vk.bin`: everything verification needs, in one hashed file.
//!
//! Layout: `b"ZKONNXVK"`, format version (u32 LE), header length (u32 LE), the header as
//! JSON ([`VkHeader`]: model hash, `k`, circuit params, input domains, instance layout,
//! output scales),
//! then halo2's verifying key in its compressed ("processed") format. The vk hash is the
//! SHA-256 of the whole file, so nothing a verifier reports comes from outside it.

use crate::error::VerifyError;
use crate::G1Affine;
use halo2_proofs::plonk::{Circuit, ConstraintSystem, VerifyingKey};
use halo2_proofs::SerdeFormat;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zkonnx_circuits::planner::{LANE_CHOICES, MAX_K};
use zkonnx_circuits::{CircuitParams, Domain, Fr, ModelCircuit};

/// File magic.
pub const VK_MAGIC: &[u8; 8] = b"ZKONNXVK";
/// Format version (3: input domains, proven by the circuit, in the header; the model hash
/// is the compiled model's).
pub const VK_VERSION: u32 = 3;
/// Largest header accepted.
const MAX_HEADER: usize = 1 << 20;

/// Name, shape and scale of a public tensor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorMeta {
    /// Tensor name.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// log2 of the fixed-point scale.
    pub scale: u32,
}

impl TensorMeta {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the tensor holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A graph input and its domain: a valid proof states that every value of the input lies
/// in `[lo, hi]` (quantized at `scale`), which the circuit proves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputDomain {
    /// Input name.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// log2 of the fixed-point scale.
    pub scale: u32,
    /// The quantized domain.
    pub domain: Domain,
}

impl From<&zkonnx_circuits::InputSpec> for InputDomain {
    fn from(i: &zkonnx_circuits::InputSpec) -> Self {
        Self {
            name: i.name.clone(),
            shape: i.shape.clone(),
            scale: i.scale,
            domain: i.domain,
        }
    }
}

impl InputDomain {
    /// The domain as real numbers.
    pub fn range(&self) -> (f64, f64) {
        self.domain.dequantized(self.scale)
    }
}

/// The part of `vk.bin` before the halo2 key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VkHeader {
    /// SHA-256 of the compiled model (`model.zkc`'s canonical bytes, which name the ONNX
    /// file's hash), hex.
    pub model_hash: String,
    /// log2 of the circuit's rows.
    pub k: u32,
    /// [`crate::srs::srs_hash`] of the SRS the keys were made with: a verifier refuses any
    /// other (its `s·g2` decides what opens).
    pub srs_hash: String,
    /// What `configure` needs.
    pub params: CircuitParams,
    /// Every graph input with its domain, in graph order (public or not).
    pub inputs: Vec<InputDomain>,
    /// Public inputs (empty when the input is private), in instance order.
    pub public_inputs: Vec<TensorMeta>,
    /// Outputs, in instance order after the public inputs.
    pub outputs: Vec<TensorMeta>,
}

impl VkHeader {
    /// Total public values.
    pub fn num_instances(&self) -> usize {
        self.public_inputs
            .iter()
            .chain(&self.outputs)
            .map(TensorMeta::len)
            .sum()
    }
}

/// A parsed `vk.bin`.
#[derive(Clone, Debug)]
pub struct VerifierKey {
    /// The header.
    pub header: VkHeader,
    /// halo2's verifying key.
    pub vk: VerifyingKey<G1Affine>,
    /// SHA-256 of the file, hex.
    pub hash: String,
}

impl VerifierKey {
    /// Serializes a header and key into `vk.bin` bytes.
    ///
    /// # Errors
    /// [`VerifyError::MalformedVk`] if the header cannot be serialized (it always can: it
    /// holds no maps with non-string keys and no non-finite numbers).
    pub fn to_bytes(
        header: &VkHeader,
        vk: &VerifyingKey<G1Affine>,
    ) -> Result<Vec<u8>, VerifyError> {
        let json = serde_json::to_vec(header)
            .map_err(|e| VerifyError::MalformedVk(format!("header: {e}")))?;
        let mut out = Vec::new();
        out.extend_from_slice(VK_MAGIC);
        out.extend_from_slice(&VK_VERSION.to_le_bytes());
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        out.extend_from_slice(&vk.to_bytes(SerdeFormat::Processed));
        Ok(out)
    }

    /// Parses `vk.bin` bytes, checking every length before halo2 allocates anything.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VerifyError> {
        let bad = |m: &str| VerifyError::MalformedVk(m.to_string());
        if bytes.len() < 16 || &bytes[..8] != VK_MAGIC {
            return Err(bad("not a zkonnx vk.bin (bad magic or too short)"));
        }
        let word = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        if word(8) != VK_VERSION {
            return Err(bad("unsupported vk.bin version"));
        }
        let len = word(12) as usize;
        if len > MAX_HEADER || bytes.len() < 16 + len {
            return Err(bad("truncated header"));
        }
        let header: VkHeader = serde_json::from_slice(&bytes[16..16 + len])
            .map_err(|e| VerifyError::MalformedVk(format!("header: {e}")))?;
        check_header(&header)?;
        let key = &bytes[16 + len..];
        check_halo2_prefix(key, &header)?;
        let vk = VerifyingKey::<G1Affine>::read::<_, ModelCircuit>(
            &mut &key[..],
            SerdeFormat::Processed,
            header.params,
        )
        .map_err(|e| VerifyError::MalformedVk(e.to_string()))?;
        if vk.to_bytes(SerdeFormat::Processed) != key {
            return Err(bad(
                "key bytes are not canonical (trailing or altered data)",
            ));
        }
        Ok(Self {
            header,
            vk,
            hash: hex::encode(Sha256::digest(bytes)),
        })
    }
}

fn check_header(h: &VkHeader) -> Result<(), VerifyError> {
    let ok = (1..=MAX_K).contains(&h.k)
        && LANE_CHOICES.contains(&h.params.lanes)
        && (1..=24).contains(&h.params.limb_bits)
        && h.num_instances() > 0
        && h.num_instances() < (1usize << h.k)
        && h.inputs.iter().all(|i| i.domain.lo <= i.domain.hi);
    if ok {
        Ok(())
    } else {
        Err(VerifyError::MalformedVk(
            "header values out of range".into(),
        ))
    }
}

/// Checks halo2's own header (version, `k`, selector flag, fixed column count) so that
/// `VerifyingKey::read` never allocates from unchecked numbers.
fn check_halo2_prefix(key: &[u8], h: &VkHeader) -> Result<(), VerifyError> {
    let bad = |m: &str| Err(VerifyError::MalformedVk(m.to_string()));
    if key.len() < 10 {
        return bad("truncated key");
    }
    let k = u32::from_le_bytes([key[1], key[2], key[3], key[4]]);
    let fixed = u32::from_le_bytes([key[6], key[7], key[8], key[9]]) as usize;
    let mut cs = ConstraintSystem::<Fr>::default();
    let _ = ModelCircuit::configure_with_params(&mut cs, h.params);
    if key[0] != 0x02 || k != h.k || key[5] > 1 {
        return bad("key header does not match");
    }
    if fixed > cs.num_fixed_columns() + cs.num_selectors() {
        return bad("key has too many fixed columns");
    }
    Ok(())
}
