using Concord.Checkers.Histories;

namespace Concord.Checkers.Invariants;

/// <summary>One way a history breaks a named business invariant, with the operations that show it.</summary>
public sealed record InvariantViolation(string Invariant, string Description, IReadOnlyList<Operation> Operations);

/// <summary>
/// A business invariant checked against a recorded history ("stock is never negative",
/// "no order is paid twice"). Implementations must be pure: the same history gives the same
/// violations, so a failing seed reproduces. docs/invariants.md names each with its database
/// constraint; this is the second enforcement, from the history.
/// </summary>
public interface IHistoryInvariant
{
    /// <summary>A stable name, for example <c>inventory.stock-never-negative</c>.</summary>
    string Name { get; }

    IEnumerable<InvariantViolation> Check(History history);
}

/// <summary>The result of checking several invariants on one history.</summary>
public sealed record InvariantReport(IReadOnlyList<string> CheckedInvariants, IReadOnlyList<InvariantViolation> Violations)
{
    public bool Holds => Violations.Count == 0;
}

public static class InvariantChecker
{
    /// <summary>Runs every invariant; violations are reported in invariant order.</summary>
    public static InvariantReport Check(History history, IEnumerable<IHistoryInvariant> invariants)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(invariants);
        var names = new List<string>();
        var violations = new List<InvariantViolation>();
        foreach (var invariant in invariants)
        {
            ArgumentNullException.ThrowIfNull(invariant, nameof(invariants));
            if (names.Contains(invariant.Name, StringComparer.Ordinal))
            {
                throw new ArgumentException($"Invariant '{invariant.Name}' is listed twice.", nameof(invariants));
            }

            names.Add(invariant.Name);
            foreach (var violation in invariant.Check(history))
            {
                Invariant.Assert(violation.Invariant == invariant.Name, $"invariant '{invariant.Name}' reports violations under its own name");
                violations.Add(violation);
            }
        }

        return new InvariantReport(names, violations);
    }

    /// <summary>Wraps a function as an invariant, for checks too small to deserve a class.</summary>
    public static IHistoryInvariant FromFunction(string name, Func<History, IEnumerable<InvariantViolation>> check)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(check);
        return new FunctionInvariant(name, check);
    }

    private sealed class FunctionInvariant(string name, Func<History, IEnumerable<InvariantViolation>> check) : IHistoryInvariant
    {
        public string Name { get; } = name;

        public IEnumerable<InvariantViolation> Check(History history) => check(history);
    }
}
