using System.IO.Hashing;
using BenchmarkDotNet.Attributes;
using Concord.Core.Checksums;
using Concord.Core.Randomness;

namespace Concord.Bench;

/// <summary>
/// Checksum of a 16 MiB buffer against copying the same buffer, measured in the same run: the
/// ratio column says how close hashing gets to memory bandwidth, and the gap between
/// <see cref="Hash64"/> and <see cref="RawXxHash3"/> is the cost of the wrapper (should be none).
/// </summary>
[MemoryDiagnoser]
public class ChecksumThroughput
{
    private const int BufferBytes = 16 * 1024 * 1024;

    private byte[] _source = [];
    private byte[] _destination = [];

    [GlobalSetup]
    public void Setup()
    {
        _source = new byte[BufferBytes];
        _destination = new byte[BufferBytes];
        var random = new SeededRandom(2024);
        for (int i = 0; i < _source.Length; i += sizeof(ulong))
        {
            BitConverter.TryWriteBytes(_source.AsSpan(i), random.NextUInt64());
        }
    }

    /// <summary>Memory bandwidth: Span.CopyTo is the same memmove as Buffer.MemoryCopy, without unsafe code.</summary>
    [Benchmark(Baseline = true)]
    public void SpanCopyTo() => _source.AsSpan().CopyTo(_destination);

    [Benchmark]
    public ulong RawXxHash3() => XxHash3.HashToUInt64(_source);

    [Benchmark]
    public ulong Hash64() => Checksum.Hash64(_source);

    [Benchmark]
    public UInt128 Hash128() => Checksum.Hash128(_source);
}
