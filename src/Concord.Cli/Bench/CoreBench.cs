using Concord.Core;
using Concord.Core.Checksums;
using Concord.Core.Crdts;
using Concord.Core.Randomness;

namespace Concord.Cli.Bench;

/// <summary>
/// <c>concord bench core</c>: checksum throughput next to a plain memory copy of the same buffer
/// (the ceiling any single pass over memory can reach), and CRDT merges per second.
/// </summary>
internal static class CoreBench
{
    public const int BufferBytes = 64 * 1024 * 1024;

    public static Dictionary<string, object> Run(TimeSpan roundDuration)
    {
        // 64 MiB: well past the last-level cache, so both passes stream from memory.
        var buffer = new byte[BufferBytes];
        var random = new SeededRandom(1).Derive("bench.core.buffer");
        foreach (ref var word in System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(buffer.AsSpan()))
        {
            word = random.NextUInt64();
        }
        var copy = new byte[BufferBytes];
        ulong sink = 0;

        var perSecond = Measure.Interleaved(
        [
            () => { buffer.AsSpan().CopyTo(copy); return 1; },
            () => { sink ^= Checksum.Hash64(buffer); return 1; },
            () => { sink ^= (ulong)Checksum.Hash128(buffer); return 1; },
        ], roundDuration);
        GC.KeepAlive(sink);
        double GigabytesPerSecond(double passes) => passes * BufferBytes / 1e9;

        var (copyGbs, hash64Gbs, hash128Gbs) = (GigabytesPerSecond(perSecond[0]), GigabytesPerSecond(perSecond[1]), GigabytesPerSecond(perSecond[2]));
        return new Dictionary<string, object>
        {
            ["buffer_bytes"] = BufferBytes,
            ["memory_copy_gb_per_s"] = Math.Round(copyGbs, 2),
            ["checksum_xxhash3_64_gb_per_s"] = Math.Round(hash64Gbs, 2),
            ["checksum_xxhash128_gb_per_s"] = Math.Round(hash128Gbs, 2),
            ["checksum_to_memory_copy_ratio"] = Math.Round(hash64Gbs / copyGbs, 3),
            ["gcounter_64_replicas_merges_per_s"] = Math.Round(GCounterMerges(roundDuration)),
            ["orset_1000_elements_merges_per_s"] = Math.Round(OrSetMerges(roundDuration)),
        };
    }

    static double GCounterMerges(TimeSpan roundDuration)
    {
        // Two replicas that each saw increments from all 64 writers: merging takes the maximum per entry.
        var a = GCounter.Empty;
        var b = GCounter.Empty;
        for (uint node = 0; node < 64; node++)
        {
            a = a.Increment(new NodeId(node), node + 1).State;
            b = b.Increment(new NodeId(node), 65 - node).State;
        }
        GCounter result = a;
        var rate = Measure.OpsPerSecond(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                result = (i & 1) == 0 ? a.Merge(b) : b.Merge(a);
            }
            return 1000;
        }, roundDuration);
        GC.KeepAlive(result);
        return rate;
    }

    static double OrSetMerges(TimeSpan roundDuration)
    {
        var a = ORSet<int>.Empty;
        var b = ORSet<int>.Empty;
        for (var element = 0; element < 1000; element++)
        {
            a = a.Add(new NodeId(1), element).State;
            b = b.Add(new NodeId(2), element + 500).State;
        }
        ORSet<int> result = a;
        var rate = Measure.OpsPerSecond(() =>
        {
            for (var i = 0; i < 10; i++)
            {
                result = (i & 1) == 0 ? a.Merge(b) : b.Merge(a);
            }
            return 10;
        }, roundDuration);
        GC.KeepAlive(result);
        return rate;
    }
}
