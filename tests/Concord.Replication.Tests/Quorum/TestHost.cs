using Concord.Core;
using Concord.Replication.Quorum;

namespace Concord.Replication.Tests.Quorum;

/// <summary>A manual clock: tests move it, nothing else does.</summary>
internal sealed class ManualClock : TimeProvider
{
    public long NowUs { get; set; } = 1_000_000;

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(NowUs * 10);

    public override long GetTimestamp() => NowUs;

    public override long TimestampFrequency => 1_000_000;
}

/// <summary>Records a node's effects so a test can deliver its messages by hand.</summary>
internal sealed class TestHost : IQuorumHost
{
    public List<(NodeId To, QuorumMessage Message)> Sent { get; } = [];

    public List<(long DelayUs, long Tag)> Timers { get; } = [];

    public Dictionary<string, object> Durable { get; } = new(StringComparer.Ordinal);

    public void Send(NodeId to, QuorumMessage message) => Sent.Add((to, message));

    public void SetTimer(long delayUs, long tag) => Timers.Add((delayUs, tag));

    public void WriteDurable(string key, object value) => Durable[key] = value;

    public void DeleteDurable(string key) => Durable.Remove(key);

    public List<(NodeId To, QuorumMessage Message)> Drain()
    {
        var sent = Sent.ToList();
        Sent.Clear();
        return sent;
    }
}
