using CsCheck;

namespace Concord.Core.Tests.Support;

/// <summary>
/// Join-semilattice laws as CsCheck properties. Each law throws <see cref="CsCheckException"/>
/// with a shrunk counterexample, so negative controls can feed a broken merge to the same helper
/// and assert that it fails.
/// </summary>
public static class Laws
{
    /// <summary>Generated cases per law; the brief asks for at least 1,000.</summary>
    public const long Iterations = 1_000;

    public static void AssertSemilattice<T>(Gen<(T A, T B, T C)> states, Func<T, T, T> merge)
        where T : IEquatable<T>
    {
        AssertCommutative(states.Select(s => (s.A, s.B)), merge);
        AssertAssociative(states, merge);
        AssertIdempotent(states.Select(s => s.A), merge);
    }

    public static void AssertCommutative<T>(Gen<(T A, T B)> states, Func<T, T, T> merge)
        where T : IEquatable<T> =>
        states.Sample(
            (a, b) =>
            {
                T ab = merge(a, b), ba = merge(b, a);
                if (!ab.Equals(ba))
                {
                    throw new InvalidOperationException($"not commutative: a+b = {ab}, b+a = {ba}");
                }
            },
            iter: Iterations);

    public static void AssertAssociative<T>(Gen<(T A, T B, T C)> states, Func<T, T, T> merge)
        where T : IEquatable<T> =>
        states.Sample(
            (a, b, c) =>
            {
                T left = merge(merge(a, b), c), right = merge(a, merge(b, c));
                if (!left.Equals(right))
                {
                    throw new InvalidOperationException($"not associative: (a+b)+c = {left}, a+(b+c) = {right}");
                }
            },
            iter: Iterations);

    public static void AssertIdempotent<T>(Gen<T> states, Func<T, T, T> merge)
        where T : IEquatable<T> =>
        states.Sample(
            a =>
            {
                T aa = merge(a, a);
                if (!aa.Equals(a))
                {
                    throw new InvalidOperationException($"not idempotent: a = {a}, a+a = {aa}");
                }
            },
            iter: Iterations);

    /// <summary>Three states taken from one generated history, so they are mutually reachable.</summary>
    public static Gen<(T A, T B, T C)> Triples<T>(Gen<T[]> replicaStates) =>
        replicaStates.Select(states => (states[0], states[1 % states.Length], states[2 % states.Length]));
}
