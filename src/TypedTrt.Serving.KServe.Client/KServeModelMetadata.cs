namespace TypedTrt.Serving.KServe;

/// <summary>A tensor as model metadata describes it: name, protocol datatype, shape with -1 for variable dimensions.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="Datatype">The protocol datatype.</param>
/// <param name="Shape">The shape; -1 marks a variable dimension.</param>
public sealed record KServeTensorMetadata(string Name, string Datatype, IReadOnlyList<long> Shape);

/// <summary>Model metadata: name, versions, platform, inputs and outputs.</summary>
/// <param name="Name">The model name.</param>
/// <param name="Versions">The versions the server holds.</param>
/// <param name="Platform">The platform (<c>tensorrt_plan</c>, <c>onnxruntime_onnx</c>, ...).</param>
/// <param name="Inputs">The inputs.</param>
/// <param name="Outputs">The outputs.</param>
public sealed record KServeModelMetadata(string Name, IReadOnlyList<string> Versions, string Platform, IReadOnlyList<KServeTensorMetadata> Inputs, IReadOnlyList<KServeTensorMetadata> Outputs);

/// <summary>Server metadata: name, version and protocol extensions.</summary>
/// <param name="Name">The server name.</param>
/// <param name="Version">The server version.</param>
/// <param name="Extensions">The extensions (e.g. <c>binary_tensor_data</c>).</param>
public sealed record KServeServerMetadata(string Name, string Version, IReadOnlyList<string> Extensions);
