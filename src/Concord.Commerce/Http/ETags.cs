using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Concord.Commerce.Http;

/// <summary>Strong ETags carrying an aggregate's version: <c>"7"</c>. If-Match names the version an update read.</summary>
public static class ETags
{
    public static string For(long version) => $"\"{version}\"";

    public static void Set(HttpContext http, long version) => http.Response.Headers.ETag = For(version);

    /// <summary>
    /// The version in If-Match, or a problem result: 428 if the header is missing (an unconditional
    /// update could overwrite a change this client never saw), 400 if it is not one of our ETags.
    /// </summary>
    public static bool TryReadIfMatch(HttpContext http, out long version, out IResult? problem)
    {
        version = 0;
        problem = null;
        var header = http.Request.Headers.IfMatch.ToString();
        if (string.IsNullOrWhiteSpace(header))
        {
            problem = Problems.Result(StatusCodes.Status428PreconditionRequired, Problems.PreconditionRequired, "If-Match required",
                "Send If-Match with the ETag you read, so that the update applies only to that version.");
            return false;
        }
        if (!EntityTagHeaderValue.TryParse(header, out var tag) || tag.IsWeak ||
            !long.TryParse(tag.Tag.AsSpan().Trim('"'), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out version))
        {
            problem = Problems.Result(StatusCodes.Status400BadRequest, Problems.MalformedRequest, "Malformed If-Match",
                $"If-Match must be one strong ETag as returned by GET, such as \"3\"; got {header}.");
            return false;
        }
        return true;
    }

    /// <summary>412 with the current representation, so the client can merge and retry without another GET.</summary>
    public static IResult VersionMismatch<T>(HttpContext http, long expected, long current, T representation)
    {
        Set(http, current);
        return Problems.Result(StatusCodes.Status412PreconditionFailed, Problems.VersionMismatch, "Version mismatch",
            $"The update was conditional on version {expected}, but the current version is {current}.",
            new Dictionary<string, object?> { ["current"] = representation });
    }
}
