using Concord.Checkers.Histories;

namespace Concord.Checkers.Linearizability;

internal enum RegisterFunction
{
    Read,
    Write,
    CompareAndSet,
}

/// <summary>
/// A register operation. <see cref="Value"/> is what a read returned (when
/// <see cref="OutputKnown"/>), what a write wrote, or what a compare-and-set sets if the
/// register holds <see cref="Expected"/>.
/// </summary>
internal readonly record struct RegisterOperation(RegisterFunction Function, OperationValue Value, OperationValue Expected, bool OutputKnown);

internal enum KeyValueFunction
{
    Get,
    Put,
    Append,
}

/// <summary>
/// A key-value operation on one key (the checker partitions by key). <see cref="Value"/> is what
/// a get returned (when <see cref="OutputKnown"/>) or what a put or append wrote.
/// </summary>
internal readonly record struct KeyValueOperation(KeyValueFunction Function, string Value, bool OutputKnown);

/// <summary>The stock models. Each partitions by <see cref="Operation.Key"/>, so a history of many keys is checked key by key.</summary>
public static class Models
{
    /// <summary>
    /// A read/write register holding any value, initially nil (Jepsen's "register" workload).
    /// Functions: <c>read</c> (output: the value read), <c>write</c> (input: the value).
    /// </summary>
    public static Model Register { get; } = CreateRegister("register", allowCompareAndSet: false);

    /// <summary>
    /// <see cref="Register"/> plus <c>cas</c>, whose input is <c>[expected new]</c>; an
    /// acknowledged cas succeeded (a cas that did not match is recorded by Jepsen as
    /// <c>:fail</c> and, like every failed operation, is dropped).
    /// </summary>
    public static Model CasRegister { get; } = CreateRegister("cas-register", allowCompareAndSet: true);

    /// <summary>
    /// A string key-value store, every key initially the empty string: <c>get</c> (output: the
    /// value; nil reads as the empty string), <c>put</c> (input: the value), <c>append</c>
    /// (input: the suffix). As in Porcupine's kv model.
    /// </summary>
    public static Model KeyValue { get; } = new Model<string, KeyValueOperation>
    {
        Name = "kv",
        Init = "",
        Decode = DecodeKeyValue,
        Step = StepKeyValue,
        StateComparer = StringComparer.Ordinal,
        IsReadOnly = static operation => operation.Function == KeyValueFunction.Get,
        DescribeState = static state => OperationValue.Of(state).ToString(),
    };

    /// <summary>The names the CLI accepts for <c>--model</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["register", "cas-register", "kv"];

    /// <summary>Finds a stock model by name; throws <see cref="ArgumentException"/> listing the names.</summary>
    public static Model ByName(string name) => name switch
    {
        "register" => Register,
        "cas-register" => CasRegister,
        "kv" => KeyValue,
        _ => throw new ArgumentException($"Unknown model '{name}'; expected one of {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>
    /// The stock model a history's functions suggest: <see cref="KeyValue"/> if it uses get, put
    /// or append, otherwise <see cref="CasRegister"/> (which also accepts plain register histories).
    /// </summary>
    public static Model Infer(History history)
    {
        ArgumentNullException.ThrowIfNull(history);
        foreach (var operation in history.Operations)
        {
            if (operation.Function is "get" or "put" or "append")
            {
                return KeyValue;
            }
        }

        return CasRegister;
    }

    private static Model<OperationValue, RegisterOperation> CreateRegister(string name, bool allowCompareAndSet) => new()
    {
        Name = name,
        Init = OperationValue.Nil,
        Decode = operation => DecodeRegister(name, allowCompareAndSet, operation),
        Step = StepRegister,
        IsReadOnly = static operation => operation.Function == RegisterFunction.Read,
        DescribeState = static state => state.ToString(),
    };

    private static RegisterOperation DecodeRegister(string modelName, bool allowCompareAndSet, Operation operation)
    {
        switch (operation.Function)
        {
            case "read":
                return new RegisterOperation(RegisterFunction.Read, operation.IsAcknowledged ? operation.Output : OperationValue.Nil,
                    OperationValue.Nil, operation.IsAcknowledged);
            case "write":
                return new RegisterOperation(RegisterFunction.Write, operation.Input, OperationValue.Nil, OutputKnown: false);
            case "cas" when allowCompareAndSet:
                if (operation.Input.Kind != OperationValueKind.List || operation.Input.Items.Length != 2)
                {
                    throw new ModelMismatchException(modelName, operation, $"needs cas input [expected new], found {operation.Input}");
                }

                return new RegisterOperation(RegisterFunction.CompareAndSet, operation.Input.Items[1], operation.Input.Items[0], OutputKnown: false);
            case "cas":
                throw new ModelMismatchException(modelName, operation, "has no cas; use the cas-register model");
            default:
                throw new ModelMismatchException(modelName, operation,
                    $"has no function '{operation.Function}' (expected read, write{(allowCompareAndSet ? " or cas" : "")})");
        }
    }

    private static bool StepRegister(OperationValue state, in RegisterOperation operation, out OperationValue next)
    {
        switch (operation.Function)
        {
            case RegisterFunction.Read:
                next = state;
                return !operation.OutputKnown || state.Equals(operation.Value);
            case RegisterFunction.Write:
                next = operation.Value;
                return true;
            default:
                var matches = state.Equals(operation.Expected);
                next = matches ? operation.Value : state;
                return matches;
        }
    }

    private static KeyValueOperation DecodeKeyValue(Operation operation)
    {
        switch (operation.Function)
        {
            case "get":
                if (!operation.IsAcknowledged)
                {
                    return new KeyValueOperation(KeyValueFunction.Get, "", OutputKnown: false);
                }

                return operation.Output.Kind switch
                {
                    OperationValueKind.Nil => new KeyValueOperation(KeyValueFunction.Get, "", OutputKnown: true),
                    OperationValueKind.Text => new KeyValueOperation(KeyValueFunction.Get, operation.Output.Text, OutputKnown: true),
                    _ => throw new ModelMismatchException("kv", operation, $"needs a string result for get, found {operation.Output}"),
                };
            case "put":
            case "append":
                if (operation.Input.Kind != OperationValueKind.Text)
                {
                    throw new ModelMismatchException("kv", operation, $"needs a string value for {operation.Function}, found {operation.Input}");
                }

                var function = operation.Function == "put" ? KeyValueFunction.Put : KeyValueFunction.Append;
                return new KeyValueOperation(function, operation.Input.Text, OutputKnown: false);
            default:
                throw new ModelMismatchException("kv", operation, $"has no function '{operation.Function}' (expected get, put or append)");
        }
    }

    private static bool StepKeyValue(string state, in KeyValueOperation operation, out string next)
    {
        switch (operation.Function)
        {
            case KeyValueFunction.Get:
                next = state;
                return !operation.OutputKnown || string.Equals(state, operation.Value, StringComparison.Ordinal);
            case KeyValueFunction.Put:
                next = operation.Value;
                return true;
            default:
                next = string.Concat(state, operation.Value);
                return true;
        }
    }
}
