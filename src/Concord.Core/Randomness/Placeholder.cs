namespace Concord.Core.Randomness;

internal static class Placeholder
{
}
