using Concord.Checkers.Histories.Formats;

namespace Concord.Checkers.Tests;

public class EdnParserTests
{
    private static List<EdnValue> ReadAll(string text)
    {
        var parser = new EdnParser(text);
        var values = new List<EdnValue>();
        while (parser.TryReadNext(out var value, out _))
        {
            values.Add(value);
        }

        return values;
    }

    [Fact]
    public void Reads_the_subset_jepsen_uses()
    {
        var values = ReadAll("nil true -42 12N \"a\\\"b\\n\" :timed-out sym [1 [2]] (3) #{4} {:a 1, :b \"x\"} ; trailing comment");

        Assert.Equal(
            ["nil", "true", "-42", "12", "\"a\"b\n\"", ":timed-out", "sym", "[1 [2]]", "(3)", "#{4}", "{:a 1 :b \"x\"}"],
            values.Select(v => v.ToString()));
        Assert.True(values[10].TryGet("b", out var b) && b.Text == "x");
        Assert.False(values[10].TryGet("c", out _));
    }

    [Fact]
    public void Tracks_the_line_of_each_value()
    {
        var parser = new EdnParser("1\n\n{:a\n 2}\n\"multi\nline\" 3");
        var lines = new List<int>();
        while (parser.TryReadNext(out _, out var line))
        {
            lines.Add(line);
        }

        Assert.Equal([1, 3, 5, 6], lines);
    }

    [Theory]
    [InlineData("[1 2", "missing ']' for the collection opened on line 1")]
    [InlineData("{:a}", "a map needs an even number of forms (a key without a value)")]
    [InlineData("1.5", "'1.5' is not an integer (floating-point and ratio numbers are not supported)")]
    [InlineData("99999999999999999999", "'99999999999999999999' is not a 64-bit integer")]
    [InlineData("\\a", "character literals are not supported")]
    [InlineData(")", "unexpected ')'")]
    [InlineData("\"\\q\"", "unknown escape '\\q' in a string")]
    public void Rejects_what_it_does_not_support_with_a_reason(string text, string reason)
    {
        var error = Assert.Throws<EdnSyntaxException>(() => ReadAll(text));

        Assert.Equal(reason, error.Reason);
    }

    [Fact]
    public void Deep_nesting_is_bounded()
    {
        var error = Assert.Throws<EdnSyntaxException>(() => ReadAll(new string('[', 10_000)));

        Assert.Contains("nested", error.Reason, StringComparison.Ordinal);
    }
}
