using Concord.Checkers.Histories;
using Concord.Checkers.Histories.Formats;

namespace Concord.Checkers.Tests;

public class HistoryReaderTests
{
    private const string JepsenLog =
        "2014-06-10 INFO  jepsen.core - Running test\n" +
        "INFO  jepsen.util - 0\t:invoke\t:write\t3\n" +
        "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n" +
        "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n" +
        "INFO  jepsen.util - 0\t:ok\t:write\t3\n" +
        "INFO  jepsen.util - 1\t:fail\t:read\t:timed-out\n" +
        "INFO  jepsen.util - 2\t:invoke\t:cas\t[3 4]\n" +
        "INFO  jepsen.util - 2\t:info\t:cas\t:timed-out\n" +
        "INFO  jepsen.util - 3\t:invoke\t:read\tnil\n";

    [Fact]
    public void Reads_jepsen_log_lines_and_pairs_them()
    {
        var history = HistoryReader.Parse(JepsenLog, "etcd.log");

        Assert.Equal(HistoryTimeUnit.Sequence, history.TimeUnit);
        Assert.Equal(4, history.Operations.Count);
        var write = history.Operations[0];
        Assert.Equal(("write", OperationOutcome.Ok, 3L, 2L, 5L), (write.Function, write.Outcome, write.Input.Integer, write.InvokeTime, write.CompleteTime!.Value));
        Assert.Equal(OperationOutcome.Fail, history.Operations[1].Outcome);
        Assert.Equal(OperationValue.ListOf(OperationValue.Of(3), OperationValue.Of(4)), history.Operations[2].Input);
        Assert.Equal(OperationOutcome.Info, history.Operations[2].Outcome);
        Assert.Equal(OperationOutcome.Pending, history.Operations[3].Outcome);
        Assert.Equal((9, (int?)null), (history.Operations[3].InvokeLine!.Value, history.Operations[3].CompleteLine));
    }

    [Fact]
    public void Reads_jepsen_edn_maps_with_times_in_nanoseconds()
    {
        const string edn =
            "{:process 0, :type :invoke, :f :append, :key \"0\", :value \"x 0 0 y\", :time 100, :index 0}\n" +
            "{:process :nemesis, :type :info, :f :start, :value nil, :time 150}\n" +
            "{:process 0, :type :ok, :f :append, :key \"0\", :value \"x 0 0 y\", :time 200}\n" +
            "; a comment\n" +
            "{:process 1, :type :invoke, :f :get, :key 7, :value nil, :time 300}\n";

        var history = HistoryReader.Parse(edn, "kv.edn");

        Assert.Equal(HistoryTimeUnit.Nanoseconds, history.TimeUnit);
        Assert.Equal(2, history.Operations.Count);
        Assert.Equal(("0", 100L, 200L), (history.Operations[0].Key, history.Operations[0].InvokeTime, history.Operations[0].CompleteTime!.Value));
        Assert.Equal("7", history.Operations[1].Key);
        Assert.Equal(5, history.Operations[1].InvokeLine);
    }

    [Fact]
    public void Reads_a_jepsen_edn_history_printed_as_one_vector()
    {
        const string edn = "[{:process 0 :type :invoke :f :read :value nil}\n {:process 0 :type :ok :f :read :value 1}]";

        var history = HistoryReader.Parse(edn, "h.edn");

        Assert.Equal(HistoryTimeUnit.Sequence, history.TimeUnit);
        Assert.Equal(OperationValue.Of(1), history.Operations.Single().Output);
    }

    [Fact]
    public void Jsonl_round_trips_a_recorded_history()
    {
        var original = TestHistories.ReadEtcd("etcd_000.log");
        var writer = new StringWriter();
        HistoryReader.WriteJsonl(original, writer);

        var copy = HistoryReader.Parse(writer.ToString(), "copy.jsonl");

        Assert.StartsWith("{\"concordHistory\":1,\"timeUnit\":\"sequence\"}\n", writer.ToString(), StringComparison.Ordinal);
        Assert.Equal(original.Events.Select(e => e with { Line = null }), copy.Events.Select(e => e with { Line = null }));
        Assert.Equal(original.Operations.Count, copy.Operations.Count);
    }

    [Fact]
    public void Jsonl_reads_keys_lists_and_time_units()
    {
        const string jsonl =
            "{\"concordHistory\":1,\"timeUnit\":\"us\"}\n" +
            "\n" +
            "{\"process\":0,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"x\",\"value\":[1,2],\"time\":10}\n" +
            "{\"process\":0,\"type\":\"ok\",\"f\":\"cas\",\"key\":\"x\",\"value\":[1,2],\"time\":25}\n";

        var history = HistoryReader.Parse(jsonl, "h.jsonl");

        Assert.Equal(HistoryTimeUnit.Microseconds, history.TimeUnit);
        var cas = history.Operations.Single();
        Assert.Equal(("x", 10L, 25L, 3), (cas.Key, cas.InvokeTime, cas.CompleteTime!.Value, cas.InvokeLine!.Value));
    }

    [Theory]
    [InlineData("{\"concordHistory\":1,\"timeUnit\":\"ns\"}", HistoryFormat.Jsonl)]
    [InlineData("{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}", HistoryFormat.JepsenEdn)]
    [InlineData("[{:process 0 :type :invoke :f :read}]", HistoryFormat.JepsenEdn)]
    [InlineData("INFO  jepsen.util - 0\t:invoke\t:read\tnil", HistoryFormat.JepsenLog)]
    [InlineData("\n2014 INFO jepsen.core - setup\nINFO  jepsen.util - 0\t:invoke\t:read\tnil", HistoryFormat.JepsenLog)]
    public void Detects_the_format(string text, HistoryFormat expected) =>
        Assert.Equal(expected, HistoryReader.Detect(text, "h"));

    [Fact]
    public void Detection_failure_names_the_first_line()
    {
        var error = Assert.Throws<HistoryReadException>(() => HistoryReader.Parse("\n\nhello world\n", "mystery.txt"));

        Assert.Equal(("mystery.txt", 3), (error.File, error.Line));
        Assert.Contains("--format", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Format_names_match_the_cli()
    {
        Assert.Equal(HistoryFormat.JepsenEdn, HistoryReader.ParseFormatName("jepsen-edn"));
        Assert.Equal(HistoryFormat.Auto, HistoryReader.ParseFormatName("auto"));
        Assert.Throws<ArgumentException>(() => HistoryReader.ParseFormatName("csv"));
    }

    [Theory]
    [InlineData("INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 3\t:ok\t:read\t1\n", 2, "process 3 completed read but has no pending invoke")]
    [InlineData("INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:write\t1\n", 2, "process 0 completed write but invoked read (line 1)")]
    [InlineData("INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:invoke\t:read\tnil\n", 2, "process 0 invoked read while its read (line 1) has not completed")]
    [InlineData("INFO  jepsen.util - 0\t:bogus\t:read\tnil\n", 1, "unknown type :bogus (expected :invoke, :ok, :fail or :info)")]
    [InlineData("INFO  jepsen.util - 0\t:invoke\t:cas\t[1 2\n", 1, "missing ']' for the collection opened on line 1")]
    [InlineData("INFO  jepsen.util - 0\t:invoke\t:read\t1.5\n", 1, "'1.5' is not an integer (floating-point and ratio numbers are not supported)")]
    [InlineData("INFO  jepsen.util - 0\t:invoke\t:read\tnil extra\n", 1, "unexpected extra after the value")]
    public void Jepsen_log_errors_name_file_line_and_reason(string text, int line, string reason)
    {
        var error = Assert.Throws<HistoryReadException>(() => HistoryReader.Parse(text, "etcd_bad.log", HistoryFormat.JepsenLog));

        Assert.Equal(("etcd_bad.log", line, reason), (error.File, error.Line, error.Reason));
        Assert.Equal($"etcd_bad.log:{line}: {reason}", error.Message);
    }

    [Theory]
    [InlineData("{:process 0, :type :invoke, :f :get}\n{:process 0 :type}\n", 2, "a map needs an even number of forms (a key without a value)")]
    [InlineData("{:type :invoke, :f :get}\n", 1, "the operation has no :process")]
    [InlineData("{:process 0, :type :invoke, :f :get, :value \"abc\n\ndef}\n", 1, "unterminated string")]
    [InlineData("{:process 0, :type :invoke, :f :get}\n\n\n{:process 0, :type :ok, :f :get, :value #inst \"2020\"}\n", 4, "tagged literals (#...) are not supported")]
    [InlineData("{:process 0, :type :invoke, :f :get, :value {:a 1}}\n", 1, ":value: maps are not supported as operation values")]
    [InlineData("{:process 0, :type :invoke, :f :get, :time 5}\n{:process 0, :type :ok, :f :get, :time 4}\n", 2, "time 4 is before the previous event's time 5")]
    [InlineData("{:process 0, :type :invoke, :f :get}\n:oops\n", 2, "expected an operation map {:process ..., :type ..., :f ...}, found :oops")]
    public void Jepsen_edn_errors_name_file_line_and_reason(string text, int line, string reason)
    {
        var error = Assert.Throws<HistoryReadException>(() => HistoryReader.Parse(text, "kv_bad.edn", HistoryFormat.JepsenEdn));

        Assert.Equal(("kv_bad.edn", line, reason), (error.File, error.Line, error.Reason));
    }

    [Theory]
    [InlineData("{\"process\":0}\n", 1, "expected the header {\"concordHistory\":1,\"timeUnit\":\"us\"} as the first line")]
    [InlineData("{\"concordHistory\":2,\"timeUnit\":\"us\"}\n", 1, "unsupported concordHistory version 2 (this reader knows version 1)")]
    [InlineData("{\"concordHistory\":1,\"timeUnit\":\"fortnights\"}\n", 1, "timeUnit must be one of sequence, ns, us, ms")]
    [InlineData("{\"concordHistory\":1,\"timeUnit\":\"us\"}\n{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"tiem\":1}\n", 2, "unknown field \"tiem\"")]
    [InlineData("{\"concordHistory\":1,\"timeUnit\":\"us\"}\n{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n", 2, "the event has no \"time\"")]
    [InlineData("{\"concordHistory\":1,\"timeUnit\":\"us\"}\n{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":true,\"time\":1}\n", 2, "values must be null, integers, strings or arrays, found true")]
    [InlineData("{\"concordHistory\":1,\"timeUnit\":\"us\"}\n\n\n[1,2]\n", 4, "expected a JSON object on each line")]
    public void Jsonl_errors_name_file_line_and_reason(string text, int line, string reason)
    {
        var error = Assert.Throws<HistoryReadException>(() => HistoryReader.Parse(text, "h.jsonl", HistoryFormat.Jsonl));

        Assert.Equal(("h.jsonl", line, reason), (error.File, error.Line, error.Reason));
    }

    [Fact]
    public void Jsonl_syntax_error_names_the_line()
    {
        var error = Assert.Throws<HistoryReadException>(() =>
            HistoryReader.Parse("{\"concordHistory\":1,\"timeUnit\":\"us\"}\n{\"process\":0,\n", "h.jsonl"));

        Assert.Equal(2, error.Line);
        Assert.StartsWith("not valid JSON", error.Reason, StringComparison.Ordinal);
    }
}
