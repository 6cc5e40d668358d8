namespace Concord.Checkers;

/// <summary>
/// Always-on assertions (TigerBeetle style): a checker that silently computes a wrong verdict is
/// worse than one that crashes, so these stay on in release builds.
/// </summary>
internal static class Invariant
{
    public static void Assert(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Checker invariant broken: " + message);
        }
    }
}
