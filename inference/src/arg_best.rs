//! ArgMax and ArgMin over a tensor's last axis, one pass per row.
//!
//! Classifiers answer their label as the ArgMax of their scores (a k-means model as the ArgMin of
//! its distances). tract's `Reduce` evaluates those by slicing the input once per output value,
//! building a slice description each time; on a batch of 100 churn instances that was about a
//! third of the model's run (docs/benchmarks.md, session 22). Over the last axis of a plain `f32`
//! tensor, which is what the exported classifiers have, this op reads each row once and answers
//! exactly as `Reduce` does: the first best index (the last with `last`), NaN never chosen, the
//! reduced axis kept with length 1.

use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::nn::{Reduce, Reducer};

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub(crate) struct ArgBest {
    /// ArgMin rather than ArgMax.
    min: bool,
    /// On a tie, the last index rather than the first.
    last: bool,
}

impl ArgBest {
    /// The index of the best value of `row`, as tract's `Reduce` finds it: a fold from the first
    /// index and the type's worst value, taking a value only when strictly better (or equal, with
    /// `last`), so NaN is never taken.
    fn best(&self, row: &[f32]) -> i64 {
        let start = if self.min { f32::MAX } else { f32::MIN };
        let mut acc = (0usize, start);
        for (i, &v) in row.iter().enumerate() {
            let better = if self.min { v < acc.1 } else { v > acc.1 };
            if better || (self.last && v == acc.1) {
                acc = (i, v);
            }
        }
        acc.0 as i64
    }
}

impl Op for ArgBest {
    fn name(&self) -> StaticName {
        if self.min { "ArgMinLastAxis".into() } else { "ArgMaxLastAxis".into() }
    }

    op_as_typed_op!();
}

impl EvalOp for ArgBest {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let mut shape: TVec<usize> = input.shape().into();
        let Some(width) = shape.pop() else { bail!("{} of a scalar", self.name()) };
        let values = input.try_as_plain_ram()?.as_slice::<f32>()?;
        let best: Vec<i64> = if width == 0 {
            vec![0; shape.iter().product()]
        } else {
            values.chunks_exact(width).map(|row| self.best(row)).collect()
        };
        shape.push(1);
        Ok(tvec!(Tensor::from_shape(&shape, &best)?.into_tvalue()))
    }
}

impl TypedOp for ArgBest {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let mut shape: TVec<TDim> = inputs[0].shape.to_tvec();
        match shape.last_mut() {
            Some(last) => *last = 1.to_dim(),
            None => bail!("{} of a scalar", self.name()),
        }
        Ok(tvec!(i64::fact(shape)))
    }

    as_op!();
}

/// Puts [`ArgBest`] in place of every ArgMax or ArgMin over the last axis of an `f32` tensor.
pub(crate) fn replace_arg_reduces(model: &mut TypedModel) -> TractResult<()> {
    let mut found = Vec::new();
    for node in model.nodes() {
        let Some(reduce) = node.op_as::<Reduce>() else { continue };
        let (min, last) = match reduce.reducer {
            Reducer::ArgMax(last) => (false, last),
            Reducer::ArgMin(last) => (true, last),
            _ => continue,
        };
        let fact = model.outlet_fact(node.inputs[0])?;
        if fact.datum_type == f32::datum_type() && fact.rank() > 0 && reduce.axes[..] == [fact.rank() - 1] {
            found.push((node.id, ArgBest { min, last }));
        }
    }
    for (id, op) in found {
        let patch = TypedModelPatch::single_unary_op(model, model.node(id), op)?;
        patch.apply(model)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same answers as tract's `Reduce`, on rows with ties, NaN, infinities and the extremes.
    #[test]
    fn answers_as_tracts_reduce_does() {
        let rows: Vec<[f32; 4]> = vec![
            [0.1, 0.7, 0.2, 0.7],
            [f32::NAN, 0.3, f32::NAN, 0.1],
            [f32::NAN, f32::NAN, f32::NAN, f32::NAN],
            [f32::NEG_INFINITY, f32::NEG_INFINITY, f32::MIN, f32::MIN],
            [f32::INFINITY, f32::INFINITY, f32::MAX, f32::MAX],
            [-0.0, 0.0, -0.0, 0.0],
            [5.0, 4.0, 3.0, 2.0],
        ];
        let flat: Vec<f32> = rows.concat();
        let input = Tensor::from_shape(&[rows.len(), 4], &flat).unwrap();
        for reducer in [Reducer::ArgMax(false), Reducer::ArgMax(true), Reducer::ArgMin(false), Reducer::ArgMin(true)] {
            let want = reducer.reduce(&[1], &input).unwrap();
            let (min, last) = match reducer {
                Reducer::ArgMin(last) => (true, last),
                Reducer::ArgMax(last) => (false, last),
                _ => unreachable!(),
            };
            let op = ArgBest { min, last };
            let got = op.eval(&EvalContext::out_of_plan(), tvec!(input.clone().into_tvalue())).unwrap();
            assert_eq!(*got[0], want, "{reducer:?}");
        }
    }

    /// An empty batch and rows of no values keep their shapes.
    #[test]
    fn empty_inputs_keep_their_shape() {
        let op = ArgBest { min: false, last: false };
        for shape in [[0usize, 3], [2, 0]] {
            let input = Tensor::zero::<f32>(&shape).unwrap();
            let got = op.eval(&EvalContext::out_of_plan(), tvec!(input.clone().into_tvalue())).unwrap();
            let want = Reducer::ArgMax(false).reduce(&[1], &input).unwrap();
            assert_eq!(*got[0], want, "{shape:?}");
        }
    }
}
