using System.Text.RegularExpressions;

namespace Concord.Commerce.Http;

/// <summary>
/// Field checks that mirror the schema's CHECK constraints, so a client gets every bad field named
/// in one 400 instead of the first constraint the database trips on. The schema stays the authority.
/// </summary>
public sealed partial class Validation
{
    readonly Dictionary<string, string[]> _errors = [];

    public bool Failed => _errors.Count > 0;

    public IDictionary<string, string[]> Errors => _errors;

    [GeneratedRegex("^[A-Z0-9][A-Z0-9-]{0,63}$")]
    private static partial Regex SkuPattern();

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyPattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9:._-]{0,63}$")]
    private static partial Regex AccountIdPattern();

    public Validation Sku(string field, string? value) =>
        Check(field, value is not null && SkuPattern().IsMatch(value), "a SKU is 1–64 characters of A–Z, 0–9 and '-', starting with a letter or digit");

    public Validation Currency(string field, string? value) =>
        Check(field, value is not null && CurrencyPattern().IsMatch(value), "a currency is an ISO 4217 code such as EUR");

    public Validation AccountId(string field, string? value) =>
        Check(field, value is not null && AccountIdPattern().IsMatch(value), "an account id is 1–64 characters of a–z, 0–9 and ':._-'");

    public Validation Range(string field, long value, long min, long max) =>
        Check(field, value >= min && value <= max, $"must be between {min} and {max}, not {value}");

    public Validation Length(string field, string? value, int min, int max) =>
        Check(field, value is not null && value.Length >= min && value.Length <= max && !value.Any(char.IsControl),
            $"must be {min}–{max} characters long, without control characters");

    public Validation NotEmpty(string field, Guid value) => Check(field, value != Guid.Empty, "must not be the empty UUID");

    public Validation Check(string field, bool ok, string message)
    {
        if (!ok)
        {
            _errors[field] = _errors.TryGetValue(field, out var existing) ? [.. existing, message] : [message];
        }
        return this;
    }
}
