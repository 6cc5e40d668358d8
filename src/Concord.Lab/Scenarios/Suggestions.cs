namespace Concord.Lab.Scenarios;

/// <summary>"Did you mean ...?" for misspelt keys, enum values, region and metric names.</summary>
internal static class Suggestions
{
    /// <summary>Longer input is no typo of a schema word, and the distance table is quadratic: don't compute it.</summary>
    const int InputLengthMax = 64;

    /// <summary>
    /// The candidate closest to <paramref name="input"/> by edit distance, ignoring case, '_' and
    /// '-' (so <c>latencyMs</c> finds <c>latency_ms</c>); null when none is close enough to be a
    /// plausible typo rather than a different word.
    /// </summary>
    public static string? Closest(string input, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (input.Length > InputLengthMax)
        {
            return null;
        }

        var typed = Normalize(input);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var known = Normalize(candidate);
            var distance = EditDistance(typed, known);

            // About one edit per four characters, and never a complete rewrite of the word.
            var allowed = Math.Max(1, (known.Length + 2) / 4);
            if (distance <= allowed && distance < known.Length && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary><c>; did you mean 'x'?</c> or nothing: ready to append to a message.</summary>
    public static string DidYouMean(string input, IEnumerable<string> candidates) =>
        Closest(input, candidates) is { } match ? $"; did you mean '{match}'?" : "";

    static string Normalize(string text) =>
        string.Concat(text.Where(c => c is not ('_' or '-')).Select(char.ToLowerInvariant));

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost 1.</summary>
    internal static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
