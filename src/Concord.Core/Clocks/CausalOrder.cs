namespace Concord.Core.Clocks;

/// <summary>How two causal histories relate. <c>a.Compare(b) == Before</c> means a happened before b.</summary>
public enum CausalOrder
{
    Equal,
    Before,
    After,
    Concurrent,
}
