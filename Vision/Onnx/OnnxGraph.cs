using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Onnx;

/// <summary>
/// Builds an ONNX graph node by node: each call adds one operator and returns the name of its output, so that a network
/// reads as a chain of calls. Weights become initializers under the node's name.
/// </summary>
internal sealed class OnnxGraph(string name)
{
    private readonly GraphProto graph = new() { Name = name };

    public GraphProto Proto => graph;

    /// <summary>A float input or output of shape <paramref name="dimensions"/>; a string dimension is symbolic (dynamic).</summary>
    public static ValueInfoProto Float(string name, params object[] dimensions)
    {
        var shape = new TensorShapeProto();
        foreach (var dimension in dimensions)
            shape.Dim.Add(dimension is string symbol
                ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dimension) });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    public string Convolution(string input, ConvSpec spec, Tensor weight, Tensor bias) =>
        Node("Conv", spec.Name, [input, Initializer($"{spec.Name}.weight", weight), Initializer($"{spec.Name}.bias", bias)],
            Ints("kernel_shape", spec.KernelHeight, spec.KernelWidth),
            Ints("strides", spec.Stride, spec.Stride),
            Ints("pads", spec.PaddingHeight, spec.PaddingWidth, spec.PaddingHeight, spec.PaddingWidth),
            Ints("dilations", 1, 1),
            Int("group", spec.Groups));

    public string Relu(string input, string output) => Node("Relu", output, [input]);

    public string Add(string left, string right, string output) => Node("Add", output, [left, right]);

    public string MaxPool(string input, string output, int kernel, int stride, bool ceil) =>
        Node("MaxPool", output, [input], Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", 0, 0, 0, 0), Int("ceil_mode", ceil ? 1 : 0));

    public string GlobalAveragePool(string input, string output) => Node("GlobalAveragePool", output, [input]);

    public string Flatten(string input, string output) => Node("Flatten", output, [input], Int("axis", 1));

    /// <summary>input · weightᵀ (+ bias): a linear layer with PyTorch's [outputs, inputs] weight.</summary>
    public string Linear(string input, string output, Tensor weight, Tensor? bias)
    {
        var inputs = new List<string> { input, Initializer($"{output}.weight", weight) };
        if (bias is not null) inputs.Add(Initializer($"{output}.bias", bias));
        return Node("Gemm", output, inputs, Int("transB", 1));
    }

    private string Node(string operatorType, string output, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = operatorType, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }

    private string Initializer(string name, Tensor tensor)
    {
        using var values = tensor.detach().cpu().to_type(ScalarType.Float32).contiguous();
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(values.shape);
        // ONNX raw data is little-endian, as every platform libtorch runs on is.
        proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.data<float>().ToArray().AsSpan()));
        graph.Initializer.Add(proto);
        return name;
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
}
