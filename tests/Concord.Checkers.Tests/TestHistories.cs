using Concord.Checkers.Histories;
using Concord.Checkers.Histories.Formats;

namespace Concord.Checkers.Tests;

/// <summary>The recorded histories in TestData (copied to the output folder), with their known verdicts.</summary>
internal static class TestHistories
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "TestData");

    public static IReadOnlyDictionary<string, bool> EtcdVerdicts { get; } = LoadEtcdVerdicts();

    public static IEnumerable<string> EtcdFiles => EtcdVerdicts.Keys.Order(StringComparer.Ordinal);

    public static IEnumerable<string> KvFiles =>
        Directory.EnumerateFiles(Path.Combine(Root, "jepsen-kv"), "*.txt").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static History ReadEtcd(string file) => Read(Path.Combine(Root, "jepsen-etcd", file));

    public static History ReadKv(string file) => Read(Path.Combine(Root, "jepsen-kv", file));

    public static bool KvIsLinearizable(string file) =>
        file.EndsWith("-ok.txt", StringComparison.Ordinal) ? true
        : file.EndsWith("-bad.txt", StringComparison.Ordinal) ? false
        : throw new ArgumentException($"{file} is neither -ok nor -bad");

    private static History Read(string path)
    {
        using var reader = File.OpenText(path);
        return HistoryReader.Read(reader, Path.GetFileName(path));
    }

    private static Dictionary<string, bool> LoadEtcdVerdicts()
    {
        var verdicts = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(Root, "jepsen-etcd", "VERDICTS.txt")))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            verdicts[parts[0]] = parts[1] switch
            {
                "linearizable" => true,
                "not-linearizable" => false,
                _ => throw new InvalidDataException($"unknown verdict '{parts[1]}' in VERDICTS.txt"),
            };
        }

        return verdicts;
    }
}
