using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Concord.Core;

/// <summary>
/// Always-on assertions (TigerBeetle's TIGER_STYLE: assertions stay on in production). A failed
/// invariant means this process holds state that must not exist, so it throws instead of
/// continuing; unlike <see cref="System.Diagnostics.Debug.Assert(bool)"/> it is never compiled out.
/// </summary>
public static class Invariant
{
    /// <summary>Throws <see cref="InvariantViolationException"/> when <paramref name="condition"/> is false.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Assert(
        [DoesNotReturnIf(false)] bool condition,
        [CallerArgumentExpression(nameof(condition))] string? expression = null)
    {
        if (!condition)
        {
            Fail(expression ?? "invariant");
        }
    }

    /// <summary>Throws <see cref="InvariantViolationException"/> with <paramref name="message"/>.</summary>
    [DoesNotReturn]
    public static void Fail(string message) => throw new InvariantViolationException(message);
}

/// <summary>A broken invariant: a bug or corrupted input, never an expected outcome.</summary>
public sealed class InvariantViolationException : Exception
{
    public InvariantViolationException()
        : base("Invariant violated.")
    {
    }

    public InvariantViolationException(string message)
        : base("Invariant violated: " + message)
    {
    }

    public InvariantViolationException(string message, Exception innerException)
        : base("Invariant violated: " + message, innerException)
    {
    }
}
