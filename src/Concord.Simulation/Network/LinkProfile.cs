namespace Concord.Simulation.Network;

/// <summary>
/// How one directed link behaves. One-way delay = <see cref="LatencyUs"/> × (1 + uniform(−J, +J)),
/// J = <see cref="JitterFraction"/>; with probability <see cref="TailProbability"/> the delay is further
/// multiplied by a Pareto(<see cref="TailParetoShape"/>) sample capped at <see cref="TailMultiplierMax"/>.
/// Jitter reorders messages unless <see cref="Fifo"/> is set, which models a TCP-like channel: a
/// message never overtakes an earlier one on the same directed link.
/// </summary>
public sealed record LinkProfile
{
    /// <summary>Bounds latency so that seconds or nanoseconds passed as microseconds are caught up front.</summary>
    public const long LatencyUsMax = 60_000_000;

    public long LatencyUs { get; init; }

    public double JitterFraction { get; init; } = 0.1;

    /// <summary>Probability that a message takes the heavy tail; 0 turns the tail off.</summary>
    public double TailProbability { get; init; }

    /// <summary>Pareto shape α; smaller is heavier. 1.5 is a common fit for network delay tails.</summary>
    public double TailParetoShape { get; init; } = 1.5;

    /// <summary>Caps the tail multiplier so that every delay stays bounded.</summary>
    public double TailMultiplierMax { get; init; } = 20.0;

    public double LossProbability { get; init; }

    /// <summary>Probability that a message is delivered twice; the copy gets its own delay.</summary>
    public double DuplicateProbability { get; init; }

    public bool Fifo { get; init; }

    /// <summary>0.5 ms ± 10%, no loss: two machines in one data centre.</summary>
    public static LinkProfile IntraRegionDefault { get; } = new() { LatencyUs = 500 };

    /// <summary>40 ms ± 10%, no loss: one way across an ocean.</summary>
    public static LinkProfile InterRegionDefault { get; } = new() { LatencyUs = 40_000 };

    internal void Validate(string path, List<string> errors)
    {
        if (LatencyUs is < 0 or > LatencyUsMax)
        {
            errors.Add($"{path}.LatencyUs must be within [0, {LatencyUsMax}] µs; got {LatencyUs}.");
        }

        if (!(JitterFraction >= 0 && JitterFraction < 1))
        {
            errors.Add($"{path}.JitterFraction must be within [0, 1); got {JitterFraction}.");
        }

        CheckProbability(path + ".TailProbability", TailProbability, errors);
        CheckProbability(path + ".LossProbability", LossProbability, errors);
        CheckProbability(path + ".DuplicateProbability", DuplicateProbability, errors);
        if (!(TailParetoShape > 0 && TailParetoShape <= 100))
        {
            errors.Add($"{path}.TailParetoShape must be within (0, 100]; got {TailParetoShape}.");
        }

        if (!(TailMultiplierMax >= 1 && TailMultiplierMax <= 1000))
        {
            errors.Add($"{path}.TailMultiplierMax must be within [1, 1000]; got {TailMultiplierMax}.");
        }
    }

    internal static void CheckProbability(string path, double value, List<string> errors)
    {
        if (!(value >= 0 && value <= 1))
        {
            errors.Add($"{path} must be a probability within [0, 1]; got {value}.");
        }
    }
}
