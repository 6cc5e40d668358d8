using BenchmarkDotNet.Attributes;
using Concord.Core;
using Concord.Core.Crdts;

namespace Concord.Bench;

/// <summary>
/// Merges of two concurrent replicas: a 64-node G-Counter and a 1,000-element OR-Set, plus the
/// common case of applying one small delta to a large OR-Set.
/// </summary>
[MemoryDiagnoser]
public class CrdtMerges
{
    private const int Nodes = 64;
    private const int Elements = 1_000;

    private GCounter _counterA = GCounter.Empty;
    private GCounter _counterB = GCounter.Empty;
    private ORSet<int> _setA = ORSet<int>.Empty;
    private ORSet<int> _setB = ORSet<int>.Empty;
    private ORSet<int> _addDelta = ORSet<int>.Empty;

    [GlobalSetup]
    public void Setup()
    {
        for (uint node = 0; node < Nodes; node++)
        {
            // Each side ahead on half the nodes, so the merge is a real pointwise max.
            _counterA = _counterA.Increment(new NodeId(node), node % 2 == 0 ? 10UL : 5UL).State;
            _counterB = _counterB.Increment(new NodeId(node), node % 2 == 0 ? 5UL : 10UL).State;
        }

        NodeId a = new(0), b = new(1);
        ORSet<int> shared = ORSet<int>.Empty;
        for (int element = 0; element < Elements; element++)
        {
            shared = shared.Add(element % 2 == 0 ? a : b, element).State;
        }

        _setA = shared;
        _setB = shared;
        for (int element = 0; element < Elements / 10; element++)
        {
            _setA = _setA.Remove(element).State;                  // A removes 10%,
            _setB = _setB.Add(b, element + (Elements / 2)).State;  // B re-adds another 10% concurrently.
        }

        _addDelta = _setB.Add(b, Elements + 1).Delta;
    }

    [Benchmark]
    public GCounter GCounterMerge64Nodes() => _counterA.Merge(_counterB);

    [Benchmark]
    public ORSet<int> ORSetMerge1000Elements() => _setA.Merge(_setB);

    [Benchmark]
    public ORSet<int> ORSetApplyDelta() => _setA.Merge(_addDelta);
}
