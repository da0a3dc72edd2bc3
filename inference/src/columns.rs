//! Add, Sub, Mul and Div by one constant per column, a chain of them in one op.
//!
//! A scikit-learn `StandardScaler` exports as `(x - mean) / scale`, which tract's optimiser turns
//! into a Sub and a Mul by a `[1, K]` constant each. It leaves those as broadcasting binary ops (its
//! faster forms want 32 or more elements in each constant): each walks the batch with a generic
//! broadcast and makes a tensor of its own, about a twentieth of the server's time on a batch of
//! 100 churn instances (docs/benchmarks.md, session 23). This op applies the whole chain to the
//! rows of its input, one step per pass, with the same `f32` operations in the same order as the
//! ops it replaces, so its results are bit for bit theirs.

use std::sync::Arc;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;

/// One step of the chain: the column's constant `c` with the running value `v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// `v + c`
    Add,
    /// `v - c`
    Sub,
    /// `c - v`
    SubFrom,
    /// `v * c`
    Mul,
    /// `v / c`
    Div,
}

#[derive(Debug, Clone)]
pub(crate) struct Columns {
    /// The steps in order, each with one constant per column of the input's last axis.
    steps: Vec<(Step, Arc<[f32]>)>,
}

/// Constants compare by their bits, so the op is `Eq` as tract wants (NaN constants included).
impl PartialEq for Columns {
    fn eq(&self, other: &Self) -> bool {
        let same =
            |a: &[f32], b: &[f32]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
        self.steps.len() == other.steps.len()
            && self.steps.iter().zip(&other.steps).all(|((s, a), (t, b))| s == t && same(a, b))
    }
}

impl Eq for Columns {}

impl Columns {
    fn width(&self) -> usize {
        self.steps.first().map_or(0, |(_, c)| c.len())
    }

    /// The chain applied to `values`, rows of [`Columns::width`] values each.
    fn apply(&self, values: &mut [f32]) {
        fn each(values: &mut [f32], constants: &[f32], f: impl Fn(f32, f32) -> f32) {
            for row in values.chunks_exact_mut(constants.len()) {
                for (v, &c) in row.iter_mut().zip(constants) {
                    *v = f(*v, c);
                }
            }
        }
        for (step, c) in &self.steps {
            match step {
                Step::Add => each(values, c, |v, c| v + c),
                Step::Sub => each(values, c, |v, c| v - c),
                Step::SubFrom => each(values, c, |v, c| c - v),
                Step::Mul => each(values, c, |v, c| v * c),
                Step::Div => each(values, c, |v, c| v / c),
            }
        }
    }
}

impl Op for Columns {
    fn name(&self) -> StaticName {
        "ColumnConstants".into()
    }

    op_as_typed_op!();
}

impl EvalOp for Columns {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        if input.shape().last() != Some(&self.width()) {
            bail!("{} over {} columns, given {:?}", self.name(), self.width(), input.shape());
        }
        let mut output = input.into_tensor();
        self.apply(output.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?);
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for Columns {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(inputs[0].shape.to_tvec())))
    }

    as_op!();
}

/// A binary op by per-column constants: its non-constant input, its step and its constants.
type Link = (OutletId, Step, Arc<[f32]>);

/// The step `node` makes from its non-constant input, if it is a binary op on plain `f32`
/// tensors with one constant per column of the other input's last axis (or one for all):
/// that input, the step and its constants.
fn step_of(model: &TypedModel, node: &TypedNode) -> TractResult<Option<Link>> {
    let Some(op) = node.op_as::<TypedBinOp>() else { return Ok(None) };
    let (&[a, b], [out]) = (&node.inputs[..], &node.outputs[..]) else { return Ok(None) };
    let (fa, fb) = (model.outlet_fact(a)?, model.outlet_fact(b)?);
    let f32s = [fa, fb, &out.fact].iter().all(|f| f.datum_type == f32::datum_type() && f.is_plain());
    // The constant is the one with a value; the other input must be the output's shape.
    let (x, fx, constant, constant_first) = match (&fa.konst, &fb.konst) {
        (None, Some(k)) => (a, fa, k, false),
        (Some(k), None) => (b, fb, k, true),
        _ => return Ok(None),
    };
    let Some(width) = fx.shape.last().and_then(|d| d.to_usize().ok()) else { return Ok(None) };
    let last = constant.shape().last().copied();
    let along_last_axis = constant.rank() <= fx.rank()
        && constant.shape().iter().rev().skip(1).all(|&d| d == 1)
        && (last.is_none_or(|d| d == 1) || last == Some(width));
    if !f32s || op.1.is_some_and(|dt| dt != f32::datum_type()) || !along_last_axis || fx.shape != out.fact.shape {
        return Ok(None);
    }
    let step = match (op.0.name(), constant_first) {
        ("Add", _) => Step::Add,
        ("Mul", _) => Step::Mul,
        ("Sub", false) | ("SubF", true) => Step::Sub,
        ("Sub", true) | ("SubF", false) => Step::SubFrom,
        ("Div", false) => Step::Div,
        _ => return Ok(None),
    };
    let values = constant.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
    let values: Arc<[f32]> = if values.len() == width { values.into() } else { vec![values[0]; width].into() };
    Ok(Some((x, step, values)))
}

/// Puts one [`Columns`] op in place of each chain of binary ops by per-column constants.
pub(crate) fn fuse_column_constants(model: &mut TypedModel) -> TractResult<()> {
    let outputs = model.output_outlets()?.to_vec();
    let mut taken = vec![false; model.nodes().len()];
    let mut chains = Vec::new();
    for id in model.eval_order()? {
        if taken[id] {
            continue;
        }
        let Some((input, step, constants)) = step_of(model, model.node(id))? else { continue };
        let (mut chain, mut last, mut steps) = (vec![id], id, vec![(step, constants)]);
        loop {
            let out = OutletId::new(last, 0);
            let &[next] = model.outlet_successors(out) else { break };
            if outputs.contains(&out) {
                break;
            }
            match step_of(model, model.node(next.node))? {
                Some((from, step, constants)) if from == out && !taken[next.node] => {
                    chain.push(next.node);
                    steps.push((step, constants));
                    last = next.node;
                }
                _ => break,
            }
        }
        for &n in &chain {
            taken[n] = true;
        }
        chains.push((chain, input, Columns { steps }));
    }
    for (chain, input, op) in chains {
        let mut patch = TypedModelPatch::default();
        let tapped = patch.tap_model(model, input)?;
        let last = *chain.last().expect("a chain has a node");
        let fused = patch.wire_node(&model.node(last).name, op, &[tapped])?[0];
        patch.shunt_outside(model, OutletId::new(last, 0), fused)?;
        for n in chain {
            patch.obliterate(n)?;
        }
        patch.apply(model)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::tract_core::ops::binary::BinMiniOp;
    use tract_onnx::tract_core::ops::math;

    /// Values that test the arithmetic's corners: zeros of both signs, NaN, the infinities, the
    /// extremes, subnormals, and ordinary numbers.
    fn awkward() -> Vec<f32> {
        vec![
            0.0,
            -0.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
            1e-45,
            -3.25,
            181.5304,
            200_000.0,
            0.1,
            -7.0,
            8758.398,
            1.0,
        ]
    }

    /// Each step gives bit for bit what tract's own op gives, with the constant on either side.
    #[test]
    fn each_step_answers_as_tracts_binary_op() {
        let x = awkward();
        let constants: Vec<f32> = awkward().into_iter().rev().collect();
        let (rows, width) = (4, 4);
        let input = Tensor::from_shape(&[rows, width], &x).unwrap();
        // tract's op, whether the constant is its first input, the step that does the same.
        type Case = (fn() -> Box<dyn BinMiniOp>, bool, Step);
        let cases: [Case; 9] = [
            (|| Box::new(math::Add), false, Step::Add),
            (|| Box::new(math::Add), true, Step::Add),
            (|| Box::new(math::Sub), false, Step::Sub),
            (|| Box::new(math::Sub), true, Step::SubFrom),
            (|| Box::new(math::SubF), false, Step::SubFrom),
            (|| Box::new(math::SubF), true, Step::Sub),
            (|| Box::new(math::Mul), false, Step::Mul),
            (|| Box::new(math::Mul), true, Step::Mul),
            (|| Box::new(math::Div), false, Step::Div),
        ];
        for c in constants.chunks_exact(width) {
            let k = Tensor::from_shape(&[1, width], c).unwrap();
            for (mini, constant_first, step) in &cases {
                let (a, b) = if *constant_first { (&k, &input) } else { (&input, &k) };
                let op = TypedBinOp(mini(), None);
                let inputs = tvec!(a.clone().into_tvalue(), b.clone().into_tvalue());
                let want = op.eval(&EvalContext::out_of_plan(), inputs).unwrap();
                let fused = Columns { steps: vec![(*step, c.into())] };
                let got = fused.eval(&EvalContext::out_of_plan(), tvec!(input.clone().into_tvalue())).unwrap();
                let bits = |t: &Tensor| {
                    t.try_as_plain_ram()
                        .unwrap()
                        .as_slice::<f32>()
                        .unwrap()
                        .iter()
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>()
                };
                assert_eq!(bits(&got[0]), bits(&want[0]), "{} constant first: {constant_first}", op.name());
            }
        }
    }

    /// An input of another width is an error, not a panic or a wrong answer.
    #[test]
    fn an_input_of_another_width_is_refused() {
        let op = Columns { steps: vec![(Step::Sub, vec![1.0, 2.0, 3.0].into())] };
        let input = Tensor::zero::<f32>(&[2, 4]).unwrap();
        assert!(op.eval(&EvalContext::out_of_plan(), tvec!(input.into_tvalue())).is_err());
        let empty = Tensor::zero::<f32>(&[0, 3]).unwrap();
        let got = op.eval(&EvalContext::out_of_plan(), tvec!(empty.into_tvalue())).unwrap();
        assert_eq!(got[0].shape(), &[0, 3]);
    }
}
