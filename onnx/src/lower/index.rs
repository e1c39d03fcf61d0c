//! Index arithmetic for row-major tensors, shared by the shape and window lowerings.
//!
//! Copies of values (Transpose, Slice, Split, Expand, Tile, …) are worked out on an index
//! tensor ([`iota`]): an `ndarray` array holding each value's flat index, which ndarray's
//! views permute, slice, broadcast and concatenate; the copy's sources are the view's
//! entries in row-major order. Windows (convolutions, pooling) still use the coordinate
//! helpers below.

use ndarray::{ArrayD, Dimension, IxDyn};

/// The index tensor of `shape`: entry `c` holds the flat row-major index of `c`.
pub fn iota(shape: &[usize]) -> ArrayD<u32> {
    let st = strides(shape);
    ArrayD::from_shape_fn(IxDyn(shape), |c| ravel(c.slice(), &st) as u32)
}

/// Row-major strides of a shape.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The coordinates of flat index `flat` in `shape`.
pub fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut c = vec![0; shape.len()];
    for i in (0..shape.len()).rev() {
        c[i] = flat % shape[i].max(1);
        flat /= shape[i].max(1);
    }
    c
}

/// The flat index of coordinates in a tensor with `strides`.
pub fn ravel(coords: &[usize], strides: &[usize]) -> usize {
    coords.iter().zip(strides).map(|(c, s)| c * s).sum()
}

/// A possibly negative axis made positive.
pub fn axis(a: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let a = if a < 0 { a + r } else { a };
    if (0..r).contains(&a) {
        Ok(a as usize)
    } else {
        Err(format!("axis {a} out of range for rank {rank}"))
    }
}

/// Every coordinate tuple of a shape, in row-major order.
pub fn all_coords(shape: &[usize]) -> impl Iterator<Item = Vec<usize>> + '_ {
    let n: usize = shape.iter().product();
    (0..n).map(move |f| unravel(f, shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let shape = [2, 3, 4];
        let st = strides(&shape);
        assert_eq!(st, vec![12, 4, 1]);
        for f in 0..24 {
            assert_eq!(ravel(&unravel(f, &shape), &st), f);
        }
        assert_eq!(axis(-1, 3), Ok(2));
        assert!(axis(3, 3).is_err());
    }
}
