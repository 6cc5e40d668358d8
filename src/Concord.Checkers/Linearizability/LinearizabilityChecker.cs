using Concord.Checkers.Histories;

namespace Concord.Checkers.Linearizability;

/// <summary>
/// Decides whether a history is linearizable with respect to a model: is there a total order of
/// its operations, consistent with real time, in which the model accepts every operation?
/// See README.md for the algorithm and the treatment of failed and indeterminate operations.
/// </summary>
public static class LinearizabilityChecker
{
    /// <summary>Checks <paramref name="history"/> partition by partition within <paramref name="budget"/> (default: <see cref="CheckBudget.Unlimited"/>).</summary>
    /// <exception cref="ModelMismatchException">An operation does not fit the model.</exception>
    /// <exception cref="ArgumentException">The budget is invalid.</exception>
    public static LinearizabilityResult Check(History history, Model model, CheckBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(model);
        return model.Check(history, new BudgetMeter(budget ?? CheckBudget.Unlimited));
    }
}

internal static class PartitionedCheck<TState, TOperation>
{
    private const int StuckShownMax = 24;
    private const int ConcurrentPrefixShownMax = 16;
    private const int RecentPrefixShownMin = 3;

    public static LinearizabilityResult Run(Model<TState, TOperation> model, History history, BudgetMeter meter)
    {
        // Decode everything first, failed operations included, so a history the model cannot
        // interpret is rejected up front rather than after minutes of search.
        var decode = model.Decode;
        var decoded = new TOperation[history.Operations.Count];
        for (var i = 0; i < decoded.Length; i++)
        {
            try
            {
                decoded[i] = decode(history.Operations[i]);
            }
            catch (ModelMismatchException e) when (e.HistorySource is null && history.Source is not null)
            {
                throw new ModelMismatchException(e.ModelName, e.Operation, e.Reason, history.Source);
            }
        }

        var results = new List<PartitionResult>();
        string? unknownReason = null;
        foreach (var (key, members) in Partition(model, history, decoded))
        {
            var operations = members.Select(i => history.Operations[i]).ToArray();
            var partitionDecoded = members.Select(i => decoded[i]).ToArray();
            if (!meter.Continue(0))
            {
                var reason = "not checked: " + meter.ExhaustedReason;
                results.Add(new PartitionResult(key, LinearizabilityVerdict.Unknown, operations.Length, 0, 0, reason));
                unknownReason ??= meter.ExhaustedReason;
                continue;
            }

            var outcome = new LinearizationSearch<TState, TOperation>(model, operations, partitionDecoded).Run(meter);
            meter.Record(outcome.Steps);
            switch (outcome.Verdict)
            {
                case SearchVerdict.Linearizable:
                    VerifyWitness(model, operations, partitionDecoded, outcome.Order);
                    results.Add(new PartitionResult(key, LinearizabilityVerdict.Linearizable, operations.Length, outcome.Steps, outcome.CachedStates, null));
                    break;
                case SearchVerdict.NotLinearizable:
                    results.Add(new PartitionResult(key, LinearizabilityVerdict.NotLinearizable, operations.Length, outcome.Steps, outcome.CachedStates, null));
                    var violation = BuildViolation(model, key, operations, partitionDecoded, outcome);
                    return new LinearizabilityResult(LinearizabilityVerdict.NotLinearizable, model.Name, history.Source, results, violation, null);
                default:
                    var why = outcome.Verdict == SearchVerdict.CacheFull
                        ? $"cache memory budget of {meter.MaxCacheBytes} bytes exhausted after {outcome.CachedStates} states"
                        : meter.ExhaustedReason!;
                    var where = key is null ? "" : $" on key {OperationValue.Of(key)}";
                    results.Add(new PartitionResult(key, LinearizabilityVerdict.Unknown, operations.Length, outcome.Steps, outcome.CachedStates, why));
                    unknownReason ??= $"{why}{where} after {outcome.Steps} steps";
                    break;
            }
        }

        var verdict = unknownReason is null ? LinearizabilityVerdict.Linearizable : LinearizabilityVerdict.Unknown;
        return new LinearizabilityResult(verdict, model.Name, history.Source, results, null, unknownReason);
    }

    /// <summary>Groups checkable operations by partition key, in order of first appearance.</summary>
    private static List<(string? Key, List<int> Members)> Partition(Model<TState, TOperation> model, History history, TOperation[] decoded)
    {
        var partitions = new List<(string? Key, List<int> Members)>();
        var indexByKey = new Dictionary<string, int>(StringComparer.Ordinal);
        var keylessIndex = -1;
        foreach (var operation in history.Operations)
        {
            if (operation.Outcome == OperationOutcome.Fail)
            {
                continue; // definitely did not happen
            }

            if (operation.IsIndeterminate && model.IsReadOnly(decoded[operation.Id]))
            {
                continue; // a read that may not have happened, with an unknown result, constrains nothing
            }

            var key = model.Partition(operation);
            int index;
            if (key is null)
            {
                if (keylessIndex < 0)
                {
                    keylessIndex = partitions.Count;
                    partitions.Add((null, []));
                }

                index = keylessIndex;
            }
            else if (!indexByKey.TryGetValue(key, out index))
            {
                index = partitions.Count;
                indexByKey[key] = index;
                partitions.Add((key, []));
            }

            partitions[index].Members.Add(operation.Id);
        }

        return partitions;
    }

    /// <summary>
    /// Always-on check of a Linearizable verdict, independent of the search's data structures:
    /// the witness respects real time, includes every determinate operation once, and the model
    /// accepts it step by step.
    /// </summary>
    private static void VerifyWitness(Model<TState, TOperation> model, Operation[] operations, TOperation[] decoded, int[] order)
    {
        var placed = new bool[operations.Length];
        var state = model.Init;
        var latestInvoke = long.MinValue;
        foreach (var index in order)
        {
            Invariant.Assert(!placed[index], "the witness places each operation once");
            placed[index] = true;
            var operation = operations[index];
            var completes = operation.IsIndeterminate ? long.MaxValue : operation.CompleteTime!.Value;
            Invariant.Assert(completes >= latestInvoke, $"the witness respects real time at {operation}");
            latestInvoke = Math.Max(latestInvoke, operation.InvokeTime);
            Invariant.Assert(model.Step(state, in decoded[index], out state), $"the model accepts witness step {operation}");
        }

        for (var i = 0; i < operations.Length; i++)
        {
            Invariant.Assert(placed[i] || operations[i].IsIndeterminate, $"the witness includes determinate {operations[i]}");
        }
    }

    private static LinearizabilityViolation BuildViolation(
        Model<TState, TOperation> model, string? key, Operation[] operations, TOperation[] decoded, SearchOutcome outcome)
    {
        Invariant.Assert(outcome.Blocker >= 0, "a violation has a blocked operation");
        var state = model.Init;
        var prefix = new List<LinearizedOperation>(outcome.Order.Length);
        foreach (var index in outcome.Order)
        {
            Invariant.Assert(model.Step(state, in decoded[index], out state), "the longest prefix replays");
            prefix.Add(new LinearizedOperation(operations[index], model.DescribeState(state)));
        }

        var stateAfterPrefix = model.DescribeState(state);
        var candidates = outcome.Candidates
            .OrderBy(i => i == outcome.Blocker ? 0 : 1)
            .ThenBy(i => operations[i].InvokeTime)
            .Take(StuckShownMax)
            .ToList();
        var stuck = candidates.Select(i =>
        {
            var accepted = model.Step(state, in decoded[i], out var after);
            var reason = accepted
                ? $"the model accepts it (state would become {model.DescribeState(after)}), but no order of the remaining operations completes from there"
                : $"the model rejects it in state {stateAfterPrefix}";
            return new StuckOperation(operations[i], !accepted, reason);
        }).ToList();

        // Draw the stuck operations and the prefix operations that overlap them in time: those
        // are the orderings the search tried. Keep a few of the latest prefix operations for context.
        var earliestStuckInvoke = candidates.Min(i => operations[i].InvokeTime);
        var concurrentPrefix = outcome.Order
            .Where(i => operations[i].IsIndeterminate || operations[i].CompleteTime >= earliestStuckInvoke)
            .TakeLast(ConcurrentPrefixShownMax);
        var window = candidates
            .Concat(concurrentPrefix)
            .Concat(outcome.Order.TakeLast(RecentPrefixShownMin))
            .Distinct()
            .Select(i => operations[i])
            .OrderBy(o => o.Id)
            .ToList();

        return new LinearizabilityViolation(
            model.Name, key, prefix, model.DescribeState(model.Init), stateAfterPrefix, operations[outcome.Blocker], stuck, window);
    }
}
