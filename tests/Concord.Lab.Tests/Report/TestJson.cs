using System.Text.Json;
using System.Text.RegularExpressions;

namespace Concord.Lab.Tests.Report;

/// <summary>
/// The tests' own reading of a <c>data-json</c> path (<c>a.b[2]["odd key"].c</c>), independent of
/// the deck's JsonPath, so a bug there cannot hide itself.
/// </summary>
internal static partial class TestJson
{
    public static JsonElement At(JsonElement root, string path)
    {
        var current = root;
        int consumed = 0;
        foreach (Match step in Step().Matches(path))
        {
            Assert.Equal(consumed, step.Index); // the steps cover the whole path, nothing skipped
            consumed += step.Length;
            if (step.Groups["index"].Success)
            {
                current = current[int.Parse(step.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture)];
            }
            else
            {
                string name = step.Groups["name"].Success ? step.Groups["name"].Value : JsonSerializer.Deserialize<string>(step.Groups["quoted"].Value)!;
                Assert.True(current.TryGetProperty(name, out current), $"results.json has no '{name}' on the way to {path}");
            }
        }
        Assert.Equal(path.Length, consumed);
        return current;
    }

    [GeneratedRegex("""\.?(?<name>[A-Za-z0-9_]+)|\[(?<index>\d+)\]|\[(?<quoted>"(?:[^"\\]|\\.)*")\]""")]
    private static partial Regex Step();
}

/// <summary>An RFC 4180 reader for the tests: quoted fields, doubled quotes, CRLF records.</summary>
internal static class TestCsv
{
    public static List<Dictionary<string, string>> Read(string text)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new System.Text.StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '"' && field.Length == 0)
            {
                for (i++; !(text[i] == '"' && (i + 1 == text.Length || text[i + 1] != '"')); i++)
                {
                    field.Append(text[i]);
                    if (text[i] == '"')
                    {
                        i++; // a doubled quote stands for one
                    }
                }
            }
            else if (c == ',')
            {
                record.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\r')
            {
                Assert.Equal('\n', text[i + 1]);
                i++;
                record.Add(field.ToString());
                field.Clear();
                records.Add(record);
                record = [];
            }
            else
            {
                Assert.NotEqual('\n', c); // a bare line break outside quotes breaks RFC 4180
                field.Append(c);
            }
        }
        Assert.Empty(record);
        Assert.Equal(0, field.Length);
        var header = records[0];
        Assert.Equal(header.Count, header.Distinct().Count());
        return [.. records.Skip(1).Select(r =>
        {
            Assert.Equal(header.Count, r.Count);
            return header.Zip(r).ToDictionary(p => p.First, p => p.Second);
        })];
    }
}
