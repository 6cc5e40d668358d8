using System.Globalization;

namespace Concord.Simulation.Running;

/// <summary>
/// Runs the same seed more than once in this process and compares trace hashes. Catches node code
/// that leaks nondeterminism into a run: iteration over object hash codes, static state, ambient
/// time or randomness. Same process on purpose — a static counter survives between the runs.
/// </summary>
public static class DeterminismCheck
{
    /// <summary>Returns the trace hash, or throws a <see cref="SimulationFailure"/> naming the seed and the differing hashes.</summary>
    /// <param name="runAndHash">Builds a fresh simulator for the seed, runs it, returns <see cref="Simulator{TMessage}.TraceHash"/>.</param>
    public static ulong Verify(ulong seed, Func<ulong, ulong> runAndHash, int runs = 2)
    {
        ArgumentNullException.ThrowIfNull(runAndHash);
        if (runs < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(runs), runs, "Comparing needs at least two runs.");
        }

        ulong first = runAndHash(seed);
        for (int run = 2; run <= runs; run++)
        {
            ulong hash = runAndHash(seed);
            if (hash != first)
            {
                throw new SimulationFailure(seed, null, string.Create(CultureInfo.InvariantCulture, $"nondeterministic: run 1 trace hash {first:x16}, run {run} trace hash {hash:x16}"));
            }
        }

        return first;
    }

    public static bool IsDeterministic(ulong seed, Func<ulong, ulong> runAndHash, int runs = 2)
    {
        try
        {
            Verify(seed, runAndHash, runs);
            return true;
        }
        catch (SimulationFailure failure) when (failure.Seed == seed && failure.SimTimeUs is null)
        {
            return false;
        }
    }
}
