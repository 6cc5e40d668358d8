using Concord.Checkers.Linearizability;

namespace Concord.Checkers.Tests;

public class ViolationReportTests
{
    [Fact]
    public void Violation_names_the_blocked_operation_and_a_small_window()
    {
        var history = TestHistories.ReadEtcd("etcd_000.log");

        var violation = LinearizabilityChecker.Check(history, Models.CasRegister).Violation!;

        Assert.Contains(violation.Stuck, s => s.Operation == violation.Blocked);
        Assert.Contains(violation.Blocked, violation.Window);
        Assert.InRange(violation.Window.Count, 1, 60);
        Assert.True(violation.Blocked.InvokeLine is not null, "operations point back at their source lines");
        Assert.Contains(violation.Blocked.ToString(), violation.Describe(), StringComparison.Ordinal);
        // Replaying the prefix gives the reported state: the prefix is genuinely linearizable.
        Assert.Equal(violation.StateAfterPrefix, violation.LongestPrefix[^1].StateAfter);
    }

    [Fact]
    public void Html_report_is_self_contained()
    {
        var result = LinearizabilityChecker.Check(TestHistories.ReadKv("c10-bad.txt"), Models.KeyValue);

        var html = LinearizabilityHtmlReport.Render(result);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("Not linearizable", html, StringComparison.Ordinal);
        Assert.Contains("c10-bad.txt", html, StringComparison.Ordinal);
        foreach (var external in new[] { "<script", "src=", "href=", "url(", "@import", "<link" })
        {
            Assert.DoesNotContain(external, html, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void Html_report_escapes_history_values()
    {
        var history = new Histories.HistoryBuilder()
            .Invoke(0, "put", Histories.OperationValue.Of("<b>&"), key: "<k>").Ok(0)
            .Invoke(1, "get", key: "<k>").Ok(1, Histories.OperationValue.Of("</svg><script>"))
            .Build();

        var html = LinearizabilityHtmlReport.Render(LinearizabilityChecker.Check(history, Models.KeyValue));

        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;/svg&gt;&lt;script&gt;", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Linearizable_and_unknown_results_render_too()
    {
        var history = TestHistories.ReadEtcd("etcd_002.log");

        var passed = LinearizabilityHtmlReport.Render(LinearizabilityChecker.Check(history, Models.CasRegister));
        var unknown = LinearizabilityHtmlReport.Render(LinearizabilityChecker.Check(history, Models.CasRegister, new CheckBudget { MaxSteps = 10 }));

        Assert.Contains("Linearizable", passed, StringComparison.Ordinal);
        Assert.Contains("This is not a pass", unknown, StringComparison.Ordinal);
    }
}
