using Concord.Checkers.Histories;

namespace Concord.Checkers.Linearizability;

/// <summary>
/// The model's transition: from <paramref name="state"/>, can <paramref name="operation"/> happen
/// (with the output it recorded), and if so what is the next state? Must be pure: the checker
/// calls it many times per operation, in any order, and caches states.
/// </summary>
public delegate bool StepFunction<TState, TOperation>(TState state, in TOperation operation, out TState next);

/// <summary>
/// A sequential specification for <see cref="LinearizabilityChecker"/>. Create one as a
/// <see cref="Model{TState, TOperation}"/>, or use <see cref="Models"/>.
/// </summary>
public abstract record Model
{
    private protected Model()
    {
    }

    /// <summary>The name the CLI uses, for example <c>cas-register</c>.</summary>
    public required string Name { get; init; }

    internal abstract LinearizabilityResult Check(History history, BudgetMeter meter);
}

/// <summary>
/// A model as a record of pure functions, as in Porcupine. States must be immutable values:
/// <see cref="StateComparer"/> decides when two states are the same, which is what makes the
/// checker's state cache sound.
/// </summary>
/// <typeparam name="TState">The object's state, for example the register's value.</typeparam>
/// <typeparam name="TOperation">An operation decoded once from the history, so the hot loop never parses values.</typeparam>
public sealed record Model<TState, TOperation> : Model
{
    /// <summary>The state before any operation.</summary>
    public required TState Init { get; init; }

    /// <summary>
    /// Interprets a history operation for this model (function, input and, for acknowledged
    /// operations, output). Throws <see cref="ModelMismatchException"/> for an operation the
    /// model does not understand.
    /// </summary>
    public required Func<Operation, TOperation> Decode { get; init; }

    public required StepFunction<TState, TOperation> Step { get; init; }

    /// <summary>Equality and hash of states; both must agree.</summary>
    public IEqualityComparer<TState> StateComparer { get; init; } = EqualityComparer<TState>.Default;

    /// <summary>
    /// P-compositionality: operations with different partition keys act on independent objects
    /// and are checked separately (Horn and Kroening). The default is the operation's key.
    /// </summary>
    public Func<Operation, string?> Partition { get; init; } = static operation => operation.Key;

    /// <summary>
    /// True for operations that never change the state (reads). An indeterminate read-only
    /// operation constrains nothing, so the checker leaves it out.
    /// </summary>
    public Func<TOperation, bool> IsReadOnly { get; init; } = static _ => false;

    /// <summary>Renders a state for violation reports.</summary>
    public Func<TState, string> DescribeState { get; init; } = static state => state?.ToString() ?? "nil";

    internal override LinearizabilityResult Check(History history, BudgetMeter meter) =>
        PartitionedCheck<TState, TOperation>.Run(this, history, meter);
}

/// <summary>A history operation that the model cannot interpret (an unknown function, a value of the wrong shape).</summary>
public sealed class ModelMismatchException : Exception
{
    public ModelMismatchException(string modelName, Operation operation, string reason, string? source = null)
        : base($"{Location(source, operation)}operation {operation}: the {modelName} model {reason}")
    {
        ModelName = modelName;
        Operation = operation;
        Reason = reason;
        HistorySource = source;
    }

    public string ModelName { get; }

    /// <summary>The operation that did not fit; its <see cref="Operation.InvokeLine"/> points into the file.</summary>
    public Operation Operation { get; }

    public string Reason { get; }

    /// <summary>The history's source (file name), when known.</summary>
    public string? HistorySource { get; }

    private static string Location(string? source, Operation operation) => (source, operation.InvokeLine) switch
    {
        ({ } file, { } line) => $"{file}:{line}: ",
        (null, { } line) => $"line {line}: ",
        ({ } file, null) => $"{file}: ",
        _ => "",
    };
}
