using System.Globalization;

namespace Concord.Simulation.Running;

/// <summary>
/// A run went wrong: a node threw, an invariant failed, a bound was hit, or a checker rejected the
/// outcome. The message always starts with <c>seed=S</c> so that any log of a failure can be replayed
/// with <c>--seed S</c>.
/// </summary>
public sealed class SimulationFailure : Exception
{
    public SimulationFailure()
        : this(0, null, "simulation failed")
    {
    }

    public SimulationFailure(string message)
        : this(0, null, message)
    {
    }

    public SimulationFailure(string message, Exception innerException)
        : this(0, null, message, innerException)
    {
    }

    public SimulationFailure(ulong seed, long? simTimeUs, string reason, Exception? innerException = null)
        : base(Describe(seed, simTimeUs, reason), innerException)
    {
        Seed = seed;
        SimTimeUs = simTimeUs;
        Reason = reason;
    }

    public ulong Seed { get; }

    /// <summary>Simulated time of the failure; null when it happened outside the event loop.</summary>
    public long? SimTimeUs { get; }

    public string Reason { get; }

    private static string Describe(ulong seed, long? simTimeUs, string reason) => simTimeUs is long t
        ? string.Create(CultureInfo.InvariantCulture, $"seed={seed} time={t}us: {reason} (replay with --seed {seed})")
        : string.Create(CultureInfo.InvariantCulture, $"seed={seed}: {reason} (replay with --seed {seed})");
}
