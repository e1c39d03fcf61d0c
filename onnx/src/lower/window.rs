//! Sliding-window ops lowered to per-output dot products: Conv (1-D/2-D/3-D, stride,
//! padding, dilation, groups, optional bias), AveragePool and GlobalAveragePool.

use super::index::{all_coords, ravel, strides};
use super::{attr_i, attr_ints, Lowered, Lowering, Operand};
use crate::float_op::SparseDot;
use crate::graph::FloatOp;
use tract_onnx::pb::NodeProto;

/// Geometry of a window op over the spatial dims: strides, dilations, the padding before
/// each axis (explicit `pads` or `auto_pad`), and the output size (`ceil_mode` rounds it
/// up; a window that would start past the input and its leading padding is dropped).
pub(super) struct Window {
    strides: Vec<usize>,
    dilations: Vec<usize>,
    pad_begin: Vec<usize>,
    /// The end of the padded input on each axis: input + both pads.
    padded: Vec<usize>,
    /// Output spatial size.
    pub(super) out: Vec<usize>,
}

impl Window {
    pub(super) fn new(
        node: &NodeProto,
        spatial: &[usize],
        kernel: &[usize],
    ) -> Result<Self, String> {
        let n = spatial.len();
        let get = |name: &str, default: usize| -> Vec<usize> {
            attr_ints(node, name).map_or(vec![default; n], |v| {
                v.iter().map(|&x| x.max(0) as usize).collect()
            })
        };
        let (strides, dilations) = (get("strides", 1), get("dilations", 1));
        if kernel.len() != n || strides.len() != n || dilations.len() != n {
            return Err("kernel, strides or dilations do not match the spatial rank".into());
        }
        if strides.contains(&0) || dilations.contains(&0) {
            return Err("strides and dilations must be positive".into());
        }
        let span: Vec<usize> = (0..n)
            .map(|i| dilations[i] * (kernel[i].max(1) - 1) + 1)
            .collect();
        let pads = Self::pads(node, spatial, &strides, &span)?;
        let ceil = attr_i(node, "ceil_mode", 0) != 0;
        let mut out = Vec::with_capacity(n);
        let mut padded = Vec::with_capacity(n);
        for i in 0..n {
            let p = spatial[i] + pads[i] + pads[n + i];
            if p < span[i] {
                return Err("the window is larger than the padded input".into());
            }
            let room = p - span[i];
            let mut o = 1 + if ceil {
                room.div_ceil(strides[i])
            } else {
                room / strides[i]
            };
            if ceil && (o - 1) * strides[i] >= spatial[i] + pads[i] {
                o -= 1;
            }
            out.push(o);
            padded.push(p);
        }
        Ok(Self {
            strides,
            dilations,
            pad_begin: pads[..n].to_vec(),
            padded,
            out,
        })
    }

    /// The padding before and after each axis (`2·n` values): `pads`, or what `auto_pad`
    /// = SAME_UPPER / SAME_LOWER needs for `ceil(input / stride)` outputs (the odd one after
    /// the input for UPPER, before it for LOWER).
    fn pads(
        node: &NodeProto,
        spatial: &[usize],
        strides: &[usize],
        span: &[usize],
    ) -> Result<Vec<usize>, String> {
        let n = spatial.len();
        let auto = super::attr_s(node, "auto_pad");
        match auto.as_str() {
            "" | "NOTSET" => {
                let pads = attr_ints(node, "pads").map_or(vec![0; 2 * n], |v| {
                    v.iter().map(|&x| x.max(0) as usize).collect()
                });
                if pads.len() != 2 * n {
                    return Err("pads do not match the spatial rank".into());
                }
                Ok(pads)
            }
            "VALID" => Ok(vec![0; 2 * n]),
            "SAME_UPPER" | "SAME_LOWER" => {
                let mut pads = vec![0; 2 * n];
                for i in 0..n {
                    let out = spatial[i].div_ceil(strides[i]);
                    let total = ((out - 1) * strides[i] + span[i]).saturating_sub(spatial[i]);
                    let small = total / 2;
                    let (begin, end) = if auto == "SAME_UPPER" {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    };
                    pads[i] = begin;
                    pads[n + i] = end;
                }
                Ok(pads)
            }
            other => Err(format!("auto_pad = {other} is not supported")),
        }
    }

    /// Input coordinates (spatial) of kernel offset `k` at output position `o`, if inside.
    pub(super) fn input_at(
        &self,
        o: &[usize],
        k: &[usize],
        spatial: &[usize],
    ) -> Option<Vec<usize>> {
        (0..o.len())
            .map(|i| {
                let p = (o[i] * self.strides[i] + k[i] * self.dilations[i]) as i64
                    - self.pad_begin[i] as i64;
                (p >= 0 && (p as usize) < spatial[i]).then_some(p as usize)
            })
            .collect()
    }

    /// How many kernel offsets of output `o` fall inside the padded input (the divisor of an
    /// average that counts padding; less than the kernel's size only past the end that
    /// `ceil_mode` adds).
    fn padded_count(&self, o: &[usize], kernel: &[usize]) -> usize {
        (0..o.len())
            .map(|i| {
                (0..kernel[i])
                    .filter(|&k| o[i] * self.strides[i] + k * self.dilations[i] < self.padded[i])
                    .count()
            })
            .product()
    }
}

fn activation(l: &Lowering, ops: &[Operand]) -> Result<(usize, Vec<usize>), String> {
    match ops.first() {
        Some(Operand::Act(a)) if l.shape(*a).len() >= 3 => Ok((*a, l.shape(*a).to_vec())),
        _ => Err("the input must be an activation of rank ≥ 3 (N, C, spatial…)".into()),
    }
}

/// Conv: per output (n, m, position), the terms over its group's channels and the kernel.
pub fn conv(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = activation(l, ops)?;
    let Some(Operand::Const(w)) = ops.get(1) else {
        return Err("weights must be a constant".into());
    };
    let (batch, c_in, spatial) = (xs[0], xs[1], &xs[2..]);
    let (m_out, c_per, kernel) = (
        w.shape[0],
        w.shape.get(1).copied().unwrap_or(0),
        w.shape[2..].to_vec(),
    );
    let group = attr_i(node, "group", 1).max(1) as usize;
    if c_per * group != c_in || m_out % group != 0 {
        return Err(format!(
            "weights {:?} do not fit {c_in} channels in {group} group(s)",
            w.shape
        ));
    }
    let bias = match ops.get(2) {
        Some(Operand::Const(b)) if b.data.len() == m_out => b.data.clone(),
        None => vec![0.0; m_out],
        _ => return Err("bias must be a constant of M values".into()),
    };
    let win = Window::new(node, spatial, &kernel)?;
    let out_shape: Vec<usize> = [batch, m_out]
        .iter()
        .copied()
        .chain(win.out.iter().copied())
        .collect();
    let (xst, wst) = (strides(&xs), strides(&w.shape));
    let mut terms = Vec::new();
    let mut b = Vec::new();
    for oc in all_coords(&out_shape) {
        let (n, m, o) = (oc[0], oc[1], &oc[2..]);
        let g = m / (m_out / group);
        let mut t = Vec::new();
        for c in 0..c_per {
            for k in all_coords(&kernel) {
                if let Some(p) = win.input_at(o, &k, spatial) {
                    let xi: Vec<usize> = [n, g * c_per + c].iter().copied().chain(p).collect();
                    let wi: Vec<usize> = [m, c].iter().copied().chain(k.iter().copied()).collect();
                    t.push((0, ravel(&xi, &xst) as u32, w.data[ravel(&wi, &wst)]));
                }
            }
        }
        terms.push(t);
        b.push(bias[m]);
    }
    Ok(Lowered::Op(
        FloatOp::SparseDot(SparseDot { terms, b }),
        vec![x],
        out_shape,
    ))
}

/// AveragePool: the mean of each window (padding counted only with count_include_pad).
pub fn average_pool(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = activation(l, ops)?;
    let kernel: Vec<usize> = attr_ints(node, "kernel_shape")
        .ok_or("kernel_shape is required")?
        .iter()
        .map(|&k| k.max(1) as usize)
        .collect();
    let include_pad = attr_i(node, "count_include_pad", 0) != 0;
    let spatial = &xs[2..];
    let win = Window::new(node, spatial, &kernel)?;
    let out_shape: Vec<usize> = xs[..2]
        .iter()
        .copied()
        .chain(win.out.iter().copied())
        .collect();
    let xst = strides(&xs);
    let mut terms = Vec::new();
    for oc in all_coords(&out_shape) {
        let inside: Vec<u32> = all_coords(&kernel)
            .filter_map(|k| win.input_at(&oc[2..], &k, spatial))
            .map(|p| {
                ravel(
                    &[oc[0], oc[1]].iter().copied().chain(p).collect::<Vec<_>>(),
                    &xst,
                ) as u32
            })
            .collect();
        let count = if include_pad {
            win.padded_count(&oc[2..], &kernel)
        } else {
            inside.len().max(1)
        };
        terms.push(
            inside
                .into_iter()
                .map(|i| (0, i, 1.0 / count as f64))
                .collect(),
        );
    }
    let b = vec![0.0; terms.len()];
    Ok(Lowered::Op(
        FloatOp::SparseDot(SparseDot { terms, b }),
        vec![x],
        out_shape,
    ))
}

/// GlobalAveragePool: the mean over all spatial positions of each (n, c).
pub fn global_average_pool(
    l: &Lowering,
    _: &NodeProto,
    ops: &[Operand],
) -> Result<Lowered, String> {
    let (x, xs) = activation(l, ops)?;
    let area: usize = xs[2..].iter().product();
    let out_shape: Vec<usize> = xs[..2]
        .iter()
        .copied()
        .chain(xs[2..].iter().map(|_| 1))
        .collect();
    let terms: Vec<Vec<(u32, u32, f64)>> = (0..xs[0] * xs[1])
        .map(|nc| {
            (0..area)
                .map(|p| (0, (nc * area + p) as u32, 1.0 / area as f64))
                .collect()
        })
        .collect();
    let b = vec![0.0; terms.len()];
    Ok(Lowered::Op(
        FloatOp::SparseDot(SparseDot { terms, b }),
        vec![x],
        out_shape,
    ))
}

/// ConvTranspose: every input value scatters `x·W` into the outputs its kernel reaches;
/// gathered per output, that is a dot product with constant weights.
pub fn conv_transpose(l: &Lowering, node: &NodeProto, ops: &[Operand]) -> Result<Lowered, String> {
    let (x, xs) = activation(l, ops)?;
    let Some(Operand::Const(w)) = ops.get(1) else {
        return Err("weights must be a constant".into());
    };
    let g = Transposed::new(node, &xs, &w.shape)?;
    let m_out = g.m_per * g.group;
    let bias = match ops.get(2) {
        Some(Operand::Const(b)) if b.data.len() == m_out => b.data.clone(),
        None => vec![0.0; m_out],
        _ => return Err("bias must be a constant of M values".into()),
    };
    let out: Vec<usize> = [xs[0], m_out].into_iter().chain(g.out_sp.clone()).collect();
    let terms = g.terms(&xs, w, &out);
    let plane: usize = g.out_sp.iter().product();
    let b = (0..terms.len())
        .map(|j| bias[(j / plane) % m_out])
        .collect();
    Ok(Lowered::Op(
        FloatOp::SparseDot(SparseDot { terms, b }),
        vec![x],
        out,
    ))
}

/// A transposed convolution's geometry: groups, kernel, strides, dilations, pads and the
/// output's spatial size.
struct Transposed {
    group: usize,
    m_per: usize,
    kernel: Vec<usize>,
    st: Vec<usize>,
    dil: Vec<usize>,
    pads: Vec<usize>,
    out_sp: Vec<usize>,
}

impl Transposed {
    fn new(node: &NodeProto, xs: &[usize], ws: &[usize]) -> Result<Self, String> {
        let (c_in, spatial) = (xs[1], &xs[2..]);
        let n = spatial.len();
        let group = attr_i(node, "group", 1).max(1) as usize;
        let (m_per, kernel) = (ws.get(1).copied().unwrap_or(0), ws[2..].to_vec());
        if ws[0] != c_in || c_in % group != 0 || kernel.len() != n {
            return Err(format!(
                "weights {ws:?} do not fit {c_in} channels in {group} group(s)"
            ));
        }
        let get = |name: &str, d: usize, len: usize| -> Vec<usize> {
            attr_ints(node, name).map_or(vec![d; len], |v| {
                v.iter().map(|&x| x.max(0) as usize).collect()
            })
        };
        let (st, dil, opad) = (
            get("strides", 1, n),
            get("dilations", 1, n),
            get("output_padding", 0, n),
        );
        let full: Vec<usize> = (0..n)
            .map(|i| st[i] * (spatial[i] - 1) + opad[i] + (kernel[i] - 1) * dil[i] + 1)
            .collect();
        let pads = match super::attr_s(node, "auto_pad").as_str() {
            "" | "NOTSET" | "VALID" if attr_ints(node, "output_shape").is_some() => {
                return Err("output_shape without auto_pad SAME_* is not supported".into());
            }
            "" | "NOTSET" => get("pads", 0, 2 * n),
            "VALID" => vec![0; 2 * n],
            same @ ("SAME_UPPER" | "SAME_LOWER") => {
                // ONNX: the output is `output_shape` (default input · stride), the padding
                // what the full output exceeds it by, split with the odd one at the end
                // (SAME_UPPER) or the start (SAME_LOWER).
                let target = attr_ints(node, "output_shape").map_or_else(
                    || (0..n).map(|i| spatial[i] * st[i]).collect::<Vec<_>>(),
                    |v| v.iter().map(|&d| d.max(0) as usize).collect(),
                );
                let mut pads = vec![0; 2 * n];
                for i in 0..n {
                    let total = full[i]
                        .checked_sub(*target.get(i).ok_or("output_shape is too short")?)
                        .ok_or("output_shape is larger than the full output")?;
                    let (small, large) = (total / 2, total - total / 2);
                    (pads[i], pads[n + i]) = if same == "SAME_UPPER" {
                        (small, large)
                    } else {
                        (large, small)
                    };
                }
                pads
            }
            other => return Err(format!("auto_pad = {other} is not defined")),
        };
        let out_sp = (0..n)
            .map(|i| {
                full[i]
                    .checked_sub(pads[i] + pads[n + i])
                    .ok_or("pads larger than the output")
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            group,
            m_per,
            kernel,
            st,
            dil,
            pads,
            out_sp,
        })
    }

    /// The output position input position `pos` reaches through kernel offset `k`, if it
    /// lies inside the (cropped) output.
    fn target(&self, pos: &[usize], k: &[usize]) -> Option<Vec<usize>> {
        (0..pos.len())
            .map(|i| {
                let v = (pos[i] * self.st[i] + k[i] * self.dil[i]) as i64 - self.pads[i] as i64;
                (v >= 0 && (v as usize) < self.out_sp[i]).then_some(v as usize)
            })
            .collect()
    }

    /// Every input value scattered through the kernel: the terms of each output value.
    fn terms(&self, xs: &[usize], w: &super::Const, out: &[usize]) -> Vec<Vec<(u32, u32, f64)>> {
        let (xst, wst, ost) = (strides(xs), strides(&w.shape), strides(out));
        let mut terms = vec![Vec::new(); out.iter().product()];
        let c_per = xs[1] / self.group;
        for xc in all_coords(xs) {
            let (b, c, pos) = (xc[0], xc[1], &xc[2..]);
            let xi = ravel(&xc, &xst) as u32;
            for k in all_coords(&self.kernel) {
                let Some(o) = self.target(pos, &k) else {
                    continue;
                };
                for mp in 0..self.m_per {
                    let m = (c / c_per) * self.m_per + mp;
                    let oi = ravel(&[&[b, m][..], &o].concat(), &ost);
                    let wi = ravel(&[&[c, mp][..], &k].concat(), &wst);
                    terms[oi].push((0, xi, w.data[wi]));
                }
            }
        }
        terms
    }
}
