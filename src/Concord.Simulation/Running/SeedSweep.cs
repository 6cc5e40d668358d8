using System.Globalization;
using System.Text;

namespace Concord.Simulation.Running;

/// <summary>Which seeds of a sweep failed; each failure's message begins with <c>seed=S</c>.</summary>
public sealed record SeedSweepResult(int SeedsRun, IReadOnlyList<SimulationFailure> Failures)
{
    public bool Passed => Failures.Count == 0;

    public IReadOnlyList<ulong> FailedSeeds => [.. Failures.Select(f => f.Seed)];

    /// <summary>Throws a <see cref="SimulationFailure"/> for the first failed seed, listing all of them.</summary>
    public void ThrowIfFailed()
    {
        if (!Passed)
        {
            SimulationFailure first = Failures[0];
            throw new SimulationFailure(first.Seed, first.SimTimeUs, ToString(), first);
        }
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{SeedsRun} seeds, {Failures.Count} failed");
        foreach (SimulationFailure failure in Failures)
        {
            text.AppendLine().Append("  ").Append(failure.Message);
        }

        return text.ToString();
    }
}

/// <summary>
/// Runs one simulation per seed and collects failures instead of stopping at the first, so that a
/// sweep reports every bad seed. Whatever <c>runOne(S)</c> does is exactly what <c>--seed S</c> replays.
/// </summary>
public static class SeedSweep
{
    /// <summary>Seeds <paramref name="firstSeed"/>, <paramref name="firstSeed"/> + 1, …: consecutive, so a report is easy to read.</summary>
    public static SeedSweepResult Run(ulong firstSeed, int count, Action<ulong> runOne)
    {
        if (count < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "count must be ≥ 0.");
        }

        return Run(Enumerable.Range(0, count).Select(i => unchecked(firstSeed + (ulong)i)), runOne);
    }

    public static SeedSweepResult Run(IEnumerable<ulong> seeds, Action<ulong> runOne)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(runOne);
        var failures = new List<SimulationFailure>();
        int run = 0;
        foreach (ulong seed in seeds)
        {
            run++;
            try
            {
                runOne(seed);
            }
            catch (SimulationFailure failure) when (failure.Seed == seed)
            {
                failures.Add(failure);
            }
#pragma warning disable CA1031 // A sweep reports every failing seed, whatever the exception.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                failures.Add(new SimulationFailure(seed, (exception as SimulationFailure)?.SimTimeUs, $"{exception.GetType().Name}: {exception.Message}", exception));
            }
        }

        return new SeedSweepResult(run, failures);
    }
}
