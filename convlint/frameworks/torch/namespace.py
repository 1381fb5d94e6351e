"""The ``torch`` namespace: its tensor functions (from :mod:`.functions`), and what of it is not a
tensor op — global settings and queries, types, storages, TorchScript, backend kernels,
quantization, sparse tensors — each with the reason it is not followed."""

from __future__ import annotations

from convlint.frameworks.base import CPU, Device, Signature
from convlint.frameworks.torch.common import PRESERVING, preserving, reg, tensor_arg, unmodelled
from convlint.frameworks.torch.functions import FUNCTIONS, SAME_SHAPE, _as_strided, _norm, matmul
from convlint.interpret.lattice import join
from convlint.interpret.tensor import Tensor
from convlint.interpret.values import Unknown


def _device(interp, args, kwargs, node):
    t = args[0] if args else kwargs.get("type", Unknown("device"))
    if isinstance(t, str):
        return Device(t.split(":", 1)[0], args[1] if len(args) > 1 else None)
    if isinstance(t, Device):
        return t
    return CPU if t is None else Unknown("device")


def _gradient(interp, args, kwargs, node):
    """``torch.gradient(input, *, spacing, dim, edge_order)``: one tensor of the input's shape per dim."""
    x = tensor_arg(args, kwargs)
    d = kwargs.get("dim")
    if not isinstance(x, Tensor) or x.shape is None:
        return Unknown("gradient")
    n = 1 if isinstance(d, int) and not isinstance(d, bool) else len(d) if isinstance(d, (tuple, list)) else len(x.shape) if d is None and x.exact_rank else None
    return tuple(x.derive(x.shape) for _ in range(n)) if n is not None else Unknown("gradient")


def _cond(interp, args, kwargs, node):
    """``torch.cond(pred, true_fn, false_fn, operands)``: both branches, joined."""
    p = Signature.of("pred", "true_fn", "false_fn", ("operands", ())).bind(args, kwargs)
    ops = list(p["operands"]) if isinstance(p["operands"], (tuple, list)) else []
    a = interp.call(p["true_fn"], ops, {}, node)
    b = interp.call(p["false_fn"], ops, {}, node)
    return join(a, b)


def _isin(interp, args, kwargs, node):
    p = Signature.of("elements", "test_elements").bind(args, kwargs)
    e = p["elements"]
    return e.derive(e.shape) if isinstance(e, Tensor) else Tensor((), framework="torch") if isinstance(e, (int, float)) else Unknown("isin")


def _scaled_mm(interp, args, kwargs, node):
    p = Signature.of("mat_a", "mat_b").bind(args[:2], {k: v for k, v in kwargs.items() if k in ("mat_a", "mat_b")})
    return matmul(interp, node, p["mat_a"], p["mat_b"], "scaled_mm")


GLOBAL_STATE = (
    "are_deterministic_algorithms_enabled", "autocast_decrement_nesting", "autocast_increment_nesting", "clear_autocast_cache",
    "compiled_with_cxx11_abi", "get_autocast_cpu_dtype", "get_autocast_dtype", "get_autocast_gpu_dtype", "get_autocast_ipu_dtype",
    "get_autocast_xla_dtype", "get_default_device", "get_default_dtype", "get_deterministic_debug_mode", "get_device_module",
    "get_float32_matmul_precision", "get_num_interop_threads", "get_num_threads", "get_rng_state", "init_num_threads", "initial_seed",
    "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "is_autocast_cache_enabled", "is_autocast_cpu_enabled", "is_autocast_enabled",
    "is_autocast_ipu_enabled", "is_autocast_xla_enabled", "is_deterministic_algorithms_warn_only_enabled", "is_grad_enabled",
    "is_inference_mode_enabled", "is_vulkan_available", "is_warn_always_enabled", "manual_seed", "seed", "set_anomaly_enabled",
    "set_autocast_cache_enabled", "set_autocast_cpu_dtype", "set_autocast_cpu_enabled", "set_autocast_dtype", "set_autocast_enabled",
    "set_autocast_gpu_dtype", "set_autocast_ipu_dtype", "set_autocast_ipu_enabled", "set_autocast_xla_dtype", "set_autocast_xla_enabled",
    "set_default_device", "set_default_dtype", "set_default_tensor_type", "set_deterministic_debug_mode", "set_float32_matmul_precision",
    "set_flush_denormal", "set_num_interop_threads", "set_num_threads", "set_printoptions", "set_rng_state", "set_warn_always",
    "use_deterministic_algorithms", "prepare_multiprocessing_environment", "profiler_allow_cudagraph_cupti_lazy_reinit_cuda12",
    "get_file_path", "thread_safe_generator", "cudnn_is_acceptable",
)
TENSOR_PROPERTIES = (
    "is_complex", "is_conj", "is_distributed", "is_floating_point", "is_inference", "is_neg", "is_nonzero", "is_signed", "is_storage",
    "get_device", "equal", "allclose", "can_cast", "promote_types", "result_type", "typename",
)
CONTEXTS = ("no_grad", "enable_grad", "inference_mode", "set_grad_enabled", "autocast")
IO = ("load", "save", "from_numpy", "frombuffer", "from_file", "from_dlpack", "to_dlpack")
TORCHSCRIPT = (
    "AliasDb", "AnyType", "Argument", "ArgumentSpec", "AwaitType", "Block", "BoolType", "BufferDict", "CallStack", "Capsule", "ClassType",
    "Code", "CompilationUnit", "CompleteArgumentSpec", "ComplexType", "ConcreteModuleType", "ConcreteModuleTypeBuilder", "DeepCopyMemoTable",
    "DeserializationStorageContext", "DeviceObjType", "DictType", "EnumType", "ErrorReport", "ExecutionPlan", "FileCheck", "FloatType",
    "FunctionSchema", "Future", "FutureType", "Gradient", "Graph", "GraphExecutorState", "IODescriptor", "InferredType", "IntType",
    "InterfaceType", "ListType", "LiteScriptModule", "LockingLogger", "LoggerBase", "ModuleDict", "Node", "NoneType", "NoopLogger",
    "NumberType", "OperatorInfo", "OptionalType", "ParameterDict", "PyObjectType", "PyTorchFileReader", "PyTorchFileWriter", "RRefType",
    "ScriptClass", "ScriptClassFunction", "ScriptDict", "ScriptDictIterator", "ScriptDictKeyIterator", "ScriptFunction", "ScriptList",
    "ScriptListIterator", "ScriptMethod", "ScriptModule", "ScriptModuleSerializer", "ScriptObject", "ScriptObjectProperty",
    "SerializationStorageContext", "StaticModule", "StreamObjType", "StringType", "SymBoolType", "SymIntType", "TensorType", "TracingState",
    "TupleType", "Type", "UnionType", "Use", "Value", "AggregationType", "BenchmarkConfig", "BenchmarkExecutionStats", "ThroughputBenchmark",
    "import_ir_module", "import_ir_module_from_buffer", "merge_type_from_type_comment", "parse_ir", "parse_schema", "parse_type_comment",
    "unify_type_list", "fork", "wait", "Tag", "DispatchKey", "DispatchKeySet", "ExcludeDispatchKeyGuard", "DisableTorchFunction",
    "DisableTorchFunctionSubclass", "classproperty",
)
STORAGES = (
    "BFloat16Storage", "BoolStorage", "ByteStorage", "CharStorage", "ComplexDoubleStorage", "ComplexFloatStorage", "DoubleStorage",
    "FloatStorage", "HalfStorage", "IntStorage", "LongStorage", "QInt32Storage", "QInt8Storage", "QUInt2x4Storage", "QUInt4x2Storage",
    "QUInt8Storage", "ShortStorage", "Storage", "StorageBase", "TypedStorage", "UntypedStorage",
)
LEGACY_TENSOR_TYPES = ("BFloat16Tensor", "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor", "IntTensor", "LongTensor", "ShortTensor")
SYMBOLIC = ("SymBool", "SymFloat", "SymInt", "sym_constrain_range", "sym_constrain_range_for_size", "sym_float", "sym_fresh_size", "sym_int",
            "sym_ite", "sym_max", "sym_min", "sym_not", "sym_sqrt", "sym_sum")
QUANTIZED = (
    "choose_qparams_optimized", "empty_quantized", "fake_quantize_per_channel_affine", "fake_quantize_per_tensor_affine",
    "fused_moving_avg_obs_fake_quant", "q_per_channel_axis", "q_per_channel_scales", "q_per_channel_zero_points", "q_scale",
    "q_zero_point", "quantize_per_channel", "quantize_per_tensor", "quantize_per_tensor_dynamic", "fbgemm_linear_fp16_weight",
    "fbgemm_linear_fp16_weight_fp32_activation", "fbgemm_linear_int8_weight", "fbgemm_linear_int8_weight_fp32_activation",
    "fbgemm_linear_quantize_weight", "fbgemm_pack_gemm_matrix_fp16", "fbgemm_pack_quantized_matrix",
)
SPARSE = (
    "sparse_bsc_tensor", "sparse_bsr_tensor", "sparse_compressed_tensor", "sparse_coo_tensor", "sparse_csc_tensor", "sparse_csr_tensor",
    "dsmm", "hsmm", "hspmm", "saddmm", "smm", "spmm", "sspaddmm", "ccol_indices_copy", "col_indices_copy", "crow_indices_copy",
    "indices_copy", "row_indices_copy", "values_copy", "resize_as_sparse_",
)
REMOVED = ("eig", "symeig", "lstsq", "solve", "matrix_rank")


def aliased(f):
    """torch accepts numpy's ``axis=``/``keepdims=`` for ``dim=``/``keepdim=``."""
    def g(interp, args, kwargs, node):
        if ("axis" in kwargs and "dim" not in kwargs) or ("keepdims" in kwargs and "keepdim" not in kwargs):
            kwargs = dict(kwargs)
            if "axis" in kwargs and "dim" not in kwargs:
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs and "keepdim" not in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return f(interp, args, kwargs, node)

    return g


def register():
    for name, f in FUNCTIONS.items():
        reg(f"torch.{name}", aliased(f))
    for name in SAME_SHAPE:
        if f"torch.{name}" not in PRESERVING:
            preserving(f"torch.{name}")
    for name in ("gcd_", "lcm_", "ldexp_", "xlogy_"):
        preserving(f"torch.{name}")
    reg("torch.as_strided_", _as_strided)
    reg("torch.native_norm", _norm)
    reg("torch.device", _device)
    reg("torch.gradient", _gradient)
    reg("torch.cond", _cond)
    reg("torch.isin", _isin)
    F = "torch.nn.functional"
    for name in ("bilinear", "cosine_similarity", "pairwise_distance", "pdist"):
        reg(f"{F}.{name}", FUNCTIONS[name])
    reg(f"{F}.scaled_mm", _scaled_mm)
    unmodelled(f"{F}.grouped_mm", "grouped GEMM: the groups' sizes come from the offs tensor", "tensor")
    unmodelled(f"{F}.scaled_grouped_mm", "grouped low-precision GEMM: the groups' sizes come from the offs tensor", "tensor")
    for name in ("Callable", "Optional"):
        unmodelled(f"{F}.{name}", "a typing alias re-exported by the module, not an op", "type")
    for name in ("DType", "ScalingType", "SwizzleType"):
        unmodelled(f"{F}.{name}", "an enum of scaled_mm options, not an op", "type")
    unmodelled(f"{F}.Tensor", "the tensor type (isinstance checks on it stay unknown)", "type")
    for name in ("boolean_dispatch", "handle_torch_function", "has_torch_function", "has_torch_function_unary", "has_torch_function_variadic", "assert_int_or_pair"):
        unmodelled(f"{F}.{name}", "internal dispatch or argument-checking helper, not a tensor op")

    for name in GLOBAL_STATE:
        unmodelled(f"torch.{name}", "a global setting or query: not a tensor")
    for name in TENSOR_PROPERTIES:
        unmodelled(f"torch.{name}", "a property of the data or dtype (a bool, a dtype or a str): not a shape")
    for name in CONTEXTS:
        unmodelled(f"torch.{name}", "a context manager or decorator: it changes no shape")
    for name in IO:
        unmodelled(f"torch.{name}", "data from outside the program (a file, a buffer, numpy or DLPack): its shape is not known", "tensor")
    for name in TORCHSCRIPT:
        unmodelled(f"torch.{name}", "TorchScript / dispatcher machinery, not a tensor op", "type")
    for name in STORAGES:
        unmodelled(f"torch.{name}", "a storage type: untyped memory, not a shaped tensor", "type")
    for name in LEGACY_TENSOR_TYPES:
        unmodelled(f"torch.{name}", "a legacy typed tensor class (isinstance and .type() checks stay unknown)", "type")
    reg("torch.Tensor", _legacy_tensor)  # the tensor type: isinstance checks are answered (frameworks.ARRAY_TYPES)
    reg("torch.Size", _size)  # the shape type: a tuple of ints
    for name in ("dtype", "layout", "memory_format", "qscheme", "finfo", "iinfo"):
        unmodelled(f"torch.{name}", "a dtype/layout descriptor, not a tensor", "type")
    for name in ("Generator", "Stream", "Event", "GradScaler"):
        unmodelled(f"torch.{name}", "a random-number generator, stream, event or gradient scaler: not a tensor", "type")
    for name in ("AcceleratorError", "FatalError", "JITException", "OutOfMemoryError"):
        unmodelled(f"torch.{name}", "an exception type", "type")
    for name in SYMBOLIC:
        unmodelled(f"torch.{name}", "symbolic-size machinery of torch.compile/export, not a tensor op")
    for name in QUANTIZED:
        unmodelled(f"torch.{name}", "quantization (quantized tensors, observers, fbgemm kernels)", "tensor")
    for name in SPARSE:
        unmodelled(f"torch.{name}", "sparse tensors: their layout is not followed", "tensor")
    for name in REMOVED:
        unmodelled(f"torch.{name}", "removed in torch 2 (calling it raises); torch.linalg has the replacement")
    unmodelled("torch.stft", "the number of frames and frequencies depends on n_fft, hop_length, center and onesided: not modelled", "tensor")
    unmodelled("torch.istft", "the signal length depends on n_fft, hop_length, center and length: not modelled", "tensor")
    unmodelled("torch.histogramdd", "returns (hist, list of bin edges) shaped by the bins of each dimension", "tensor")
    unmodelled("torch.lobpcg", "an iterative eigensolver returning (eigenvalues, eigenvectors) for k from its arguments", "tensor")
    unmodelled("torch.segment_reduce", "the number of segments comes from the lengths/offsets data", "tensor")
    unmodelled("torch.embedding_bag", "the kernel behind F.embedding_bag: returns (output, offset2bag, bag_size, max_indices)", "tensor")
    unmodelled("torch.miopen_ctc_loss", "a MIOpen (ROCm) backend kernel", "tensor")
    unmodelled("torch.mkldnn_linear_backward_weights", "a oneDNN backward kernel", "tensor")
    unmodelled("torch.slice_inverse", "an internal view-replay op of torch.compile", "tensor")
    unmodelled("torch.vmap", "a function transform: the batched function's shapes are not followed")
    unmodelled("torch.while_loop", "a loop whose trip count depends on the data")


def _legacy_tensor(interp, args, kwargs, node):
    """``torch.Tensor(3, 4)`` (uninitialised, of that size), ``torch.Tensor([[1, 2]])`` (data),
    ``torch.Tensor()`` (empty): the legacy constructor."""
    from convlint.frameworks.torch.functions import _from_data, _sized, new_tensor

    if kwargs:
        return Tensor(None, framework="torch")
    if not args:
        return new_tensor((0,), fresh=True)
    if len(args) == 1 and not isinstance(args[0], int):
        return _from_data(interp, args, {}, node)
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        return _sized(interp, args, {}, node)
    return Tensor(None, framework="torch")


def _size(interp, args, kwargs, node):
    """``torch.Size((3, 4))`` / ``torch.Size([n])``: the tuple of its sizes."""
    if not args:
        return ()
    items = interp.iterate(args[0]) if len(args) == 1 and not kwargs else None
    return tuple(items) if items is not None else Unknown("torch.Size of unknown sizes")
