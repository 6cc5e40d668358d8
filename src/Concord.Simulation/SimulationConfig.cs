using Concord.Simulation.Faults;
using Concord.Simulation.Network;

namespace Concord.Simulation;

/// <summary>
/// Everything that determines a run besides the node code: the seed, the topology, the network,
/// the faults. The same config and the same node code give a byte-identical trace.
/// </summary>
public sealed record SimulationConfig
{
    public const int EventQueueCapacityLimit = 1 << 26;

    /// <summary>The root seed; every random choice of the run derives from it.</summary>
    public ulong Seed { get; init; }

    public Topology Topology { get; init; } = Topology.Default;

    public NetworkConfig Network { get; init; } = NetworkConfig.Default;

    /// <summary>Faults at fixed times, applied in list order when start times tie.</summary>
    public IReadOnlyList<ScheduledFault> Faults { get; init; } = [];

    /// <summary>Faults drawn from the seed, added after <see cref="Faults"/>; null for none.</summary>
    public RandomFaultConfig? RandomFaults { get; init; }

    /// <summary>
    /// Bounds pending events (messages in flight, timers, faults). Reaching it fails the run with
    /// its seed: a node that floods the network is a bug to see, not memory to exhaust.
    /// </summary>
    public int EventQueueCapacityMax { get; init; } = 1 << 22;

    /// <summary>Bounds one handler's effects (messages, timers, durable writes): catches runaway loops.</summary>
    public int EffectsPerHandlerMax { get; init; } = 1 << 16;

    /// <summary>All problems at once, each naming its field; empty when the config is valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var errors = new List<string>();
        if (Topology is null)
        {
            errors.Add("Topology must not be null.");
            return errors;
        }

        if (Network is null)
        {
            errors.Add("Network must not be null.");
        }
        else
        {
            Network.Validate(Topology, errors);
        }

        if (Faults is null)
        {
            errors.Add("Faults must not be null (use an empty list).");
        }
        else
        {
            for (int i = 0; i < Faults.Count; i++)
            {
                if (Faults[i] is null)
                {
                    errors.Add($"Faults[{i}] must not be null.");
                    continue;
                }

                Faults[i].Validate(Topology, $"Faults[{i}]", errors);
            }
        }

        RandomFaults?.Validate(Topology, errors);
        if (EventQueueCapacityMax is < 16 or > EventQueueCapacityLimit)
        {
            errors.Add($"EventQueueCapacityMax must be within [16, {EventQueueCapacityLimit}]; got {EventQueueCapacityMax}.");
        }

        if (EffectsPerHandlerMax is < 1 or > EventQueueCapacityLimit)
        {
            errors.Add($"EffectsPerHandlerMax must be within [1, {EventQueueCapacityLimit}]; got {EffectsPerHandlerMax}.");
        }

        return errors;
    }

    /// <summary>Throws <see cref="SimulationConfigException"/> listing every problem.</summary>
    public void Validate()
    {
        IReadOnlyList<string> problems = Problems();
        if (problems.Count > 0)
        {
            throw new SimulationConfigException(problems);
        }
    }
}

/// <summary>An invalid <see cref="SimulationConfig"/>; <see cref="Problems"/> names each bad field.</summary>
public sealed class SimulationConfigException : Exception
{
    public SimulationConfigException()
        : this(["invalid configuration"])
    {
    }

    public SimulationConfigException(string message)
        : this([message])
    {
    }

    public SimulationConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    public SimulationConfigException(IReadOnlyList<string> problems)
        : base("Invalid simulation config:" + Environment.NewLine + "  " + string.Join(Environment.NewLine + "  ", problems))
    {
        Problems = problems;
    }

    public IReadOnlyList<string> Problems { get; }
}
