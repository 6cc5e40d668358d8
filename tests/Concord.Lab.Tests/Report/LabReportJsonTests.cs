using System.Text.Json;
using Concord.Lab.Report;

namespace Concord.Lab.Tests.Report;

public sealed class LabReportJsonTests(DeckFixture deck) : IClassFixture<DeckFixture>
{
    [Fact]
    public void Results_json_reads_back_as_the_written_report()
    {
        string path = Path.Combine(deck.Directory, "results.json");
        var read = LabReportJson.Read(path);

        Assert.Equal(File.ReadAllText(path), LabReportJson.Serialize(read) + "\n");
        Assert.Equal(LabReportJson.Serialize(deck.Written), LabReportJson.Serialize(read));
        Assert.Equal(deck.Written.Seeds, read.Seeds);
        Assert.Equal(deck.Written.Variants[1].P95WriteLatencyMs, read.Variants[1].P95WriteLatencyMs);
    }

    [Fact]
    public void Results_json_uses_snake_case_names_and_enum_names()
    {
        var root = deck.Results.RootElement;
        Assert.Equal(5, root.GetProperty("variants")[0].GetProperty("read_your_writes_misses").GetInt32());
        Assert.Equal("AtMost", root.GetProperty("slos")[0].GetProperty("comparison").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("slos")[3].GetProperty("value").ValueKind);
        Assert.Equal(48.12, root.GetProperty("variants")[1].GetProperty("p95_write_latency_ms").GetProperty("payments").GetDouble());
    }

    [Theory]
    [InlineData(1234.5678, 1235)]
    [InlineData(-1234.5, -1235)]
    [InlineData(98765.4, 98765)]
    [InlineData(12.3456, 12.35)]
    [InlineData(0.0123456, 0.01235)]
    [InlineData(1.0 / 3, 0.3333)]
    [InlineData(7, 7)]
    [InlineData(-0.0, 0)]
    public void Doubles_round_to_four_significant_digits_keeping_whole_units(double value, double rounded)
    {
        Assert.Equal(rounded, ReportRounding.Round(value, "x"));
        Assert.Equal(rounded.ToString("R", System.Globalization.CultureInfo.InvariantCulture), LabReportJson.NumberText(ReportRounding.Round(value, "x")));
    }

    [Fact]
    public void A_report_with_a_nan_is_refused_naming_the_field()
    {
        var report = SampleReport.Create();
        var broken = report with { Variants = [report.Variants[0], report.Variants[1] with { ReplicationLagP95Ms = double.NaN }] };

        var error = Assert.Throws<ArgumentException>(() => DeckWriter.Write(broken, Path.Combine(Path.GetTempPath(), "concord-deck-never-written")));
        Assert.Contains("variants[1].replication_lag_p95_ms", error.Message, StringComparison.Ordinal);
    }
}
