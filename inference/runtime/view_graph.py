"""A network with a second, partial copy of itself for a second view of each slice.

A small sagittal field of view has its corners read from a wider view of the slice
(preprocess.keypoint_view), which needs only the heatmaps. The heatmaps leave the decoder at
a quarter of the input's resolution, so the nodes that compute them are the network minus its
full-resolution levels and segmentation head. `with_view_branch` adds those nodes again, fed
by a second input and sharing the weights, so one onnxruntime run computes the slice's outputs
and the view's heatmaps together: cheaper than a batch of two through the whole network, and
unlike a second session it shares the first's thread pool (two sessions' spinning pools fight
over two cores). The branch's outputs are the whole network's, bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # onnx loads only when a branch is built, not with every predict import
    import onnx

PREFIX = "view/"


def view_name(name: str) -> str:
    """The branch's name for the network's input or output `name`."""
    return PREFIX + name


def with_view_branch(model: onnx.ModelProto, output: str) -> onnx.ModelProto:
    """`model` plus the nodes computing `output`, copied to read `view/<input>` and write
    `view/<output>` (their own batch dimension); raises ValueError when `model` has no
    such output or more than one input."""
    import onnx
    from onnx.utils import Extractor

    graph = model.graph
    weights = {init.name for init in graph.initializer}
    inputs = [vi for vi in graph.input if vi.name not in weights]
    if len(inputs) != 1:
        raise ValueError(f"a view branch needs one input, the network has {len(inputs)}")
    outputs = {vi.name: vi for vi in graph.output}
    if output not in outputs:
        raise ValueError(f"the network has no output {output!r}")
    part = Extractor(model).extract_model([inputs[0].name], [output])

    def renamed(name: str) -> str:
        return name if name in weights or name == "" else view_name(name)

    merged = onnx.ModelProto()
    merged.CopyFrom(model)
    for node in part.graph.node:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.name = view_name(node.name) if node.name else ""
        del copy.input[:]
        copy.input.extend(renamed(i) for i in node.input)
        del copy.output[:]
        copy.output.extend(renamed(o) for o in node.output)
        merged.graph.node.append(copy)
    merged.graph.input.append(_renamed_value(inputs[0]))
    merged.graph.output.append(_renamed_value(outputs[output]))
    onnx.checker.check_model(merged)
    return merged


def _renamed_value(value: onnx.ValueInfoProto) -> onnx.ValueInfoProto:
    """A copy of `value` under the branch's name, its batch dimension its own."""
    copy = type(value)()
    copy.CopyFrom(value)
    copy.name = view_name(value.name)
    dims = copy.type.tensor_type.shape.dim
    if dims and dims[0].HasField("dim_param"):
        dims[0].dim_param = view_name(dims[0].dim_param)
    return copy
