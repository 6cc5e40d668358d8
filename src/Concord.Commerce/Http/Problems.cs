using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Concord.Commerce.Http;

/// <summary>
/// RFC 9457 problem types. Each is a relative URI under /problems/ naming one kind of failure, so a
/// client can branch on <c>type</c> rather than parse <c>detail</c>.
/// </summary>
public static class Problems
{
    public const string MalformedRequest = "/problems/malformed-request";
    public const string ValidationFailed = "/problems/validation-failed";
    public const string NotFound = "/problems/not-found";
    public const string OutOfStock = "/problems/out-of-stock";
    public const string InsufficientFunds = "/problems/insufficient-funds";
    public const string Conflict = "/problems/conflict";
    public const string InvalidTransition = "/problems/invalid-transition";
    public const string VersionMismatch = "/problems/version-mismatch";
    public const string PreconditionRequired = "/problems/precondition-required";
    public const string IdempotencyKeyRequired = "/problems/idempotency-key-required";
    public const string IdempotencyKeyReused = "/problems/idempotency-key-reused";
    public const string IdempotencyKeyInFlight = "/problems/idempotency-key-in-flight";
    public const string ConstraintViolated = "/problems/constraint-violated";
    public const string UnsupportedMediaType = "/problems/unsupported-media-type";
    public const string PayloadTooLarge = "/problems/payload-too-large";
    public const string Contention = "/problems/contention";

    public static IResult Result(int status, string type, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: type, extensions: extensions);

    /// <summary>
    /// Problems the framework writes itself (status code pages: 415 from content negotiation, 413
    /// from Kestrel's body limit, 404 and 405 from routing) get our types and a useful detail.
    /// </summary>
    internal static void FillFrameworkProblem(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Type is not null && problem.Type.StartsWith("/problems/", StringComparison.Ordinal))
        {
            return;
        }
        (problem.Type, problem.Detail) = problem.Status switch
        {
            StatusCodes.Status413PayloadTooLarge => (PayloadTooLarge, problem.Detail ?? "The request body is larger than this endpoint accepts."),
            StatusCodes.Status415UnsupportedMediaType => (UnsupportedMediaType, problem.Detail ?? "Send the body as application/json."),
            StatusCodes.Status404NotFound => (NotFound, problem.Detail ?? $"No endpoint serves {context.HttpContext.Request.Method} {context.HttpContext.Request.Path}."),
            StatusCodes.Status405MethodNotAllowed => (MalformedRequest, problem.Detail ?? $"{context.HttpContext.Request.Path} does not accept {context.HttpContext.Request.Method}."),
            _ => (problem.Type, problem.Detail),
        };
    }

    public static IResult NotFoundResult(string what) => Result(StatusCodes.Status404NotFound, NotFound, "Not found", $"{what} does not exist.");

    public static IResult Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, detail: "One or more fields are invalid; see errors.", type: ValidationFailed,
            title: "Validation failed");
}

/// <summary>
/// Turns failures that reach the pipeline into problem details: a client's malformed request into
/// a precise 4xx, a database constraint that refused a change into 409 or 422 naming the
/// constraint. Anything else is a bug in Concord: a 500 with no internals in the body.
/// </summary>
internal sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = Map(exception);
        httpContext.Response.StatusCode = problem.Status ?? StatusCodes.Status500InternalServerError;
        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
        {
            httpContext.Response.Headers.RetryAfter = "1";
        }
        else if (problem.Status >= 500)
        {
            // .NET 10 does not log exceptions an IExceptionHandler handled; a 500 is a bug, so log it here.
            log.LogError(exception, "Unhandled error serving {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
        }
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    internal static ProblemDetails Map(Exception exception) => exception switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => Problem(413, Problems.PayloadTooLarge,
            "Payload too large", "The request body is larger than this endpoint accepts."),
        BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } => Problem(415, Problems.UnsupportedMediaType,
            "Unsupported media type", "Send the body as application/json."),
        BadHttpRequestException { InnerException: JsonException json } => Problem(400, Problems.MalformedRequest,
            "Malformed JSON", Describe(json)),
        BadHttpRequestException bad => Problem(bad.StatusCode, Problems.MalformedRequest, "Malformed request", bad.Message),
        JsonException json => Problem(400, Problems.MalformedRequest, "Malformed JSON", Describe(json)),
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg => Problem(409, Problems.Conflict, "Already exists",
            $"This would duplicate an existing record ({pg.ConstraintName}).", pg.ConstraintName),
        PostgresException { SqlState: PostgresErrorCodes.CheckViolation or PostgresErrorCodes.ForeignKeyViolation or PostgresErrorCodes.NotNullViolation } pg =>
            Problem(422, Problems.ConstraintViolated, "Refused by an invariant", pg.MessageText, pg.ConstraintName),
        // Class 22, data exception: a value the database cannot take (a NUL byte, an out-of-range number).
        PostgresException { SqlState: [ '2', '2', .. ] } pg => Problem(400, Problems.MalformedRequest, "Invalid value", pg.MessageText),
        // Lost a race (deadlock victim, serialization failure): nothing was applied, a retry may succeed.
        PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure } => Problem(503, Problems.Contention,
            "Contention", "The request lost a race with another and changed nothing; retry it."),
        _ => Problem(500, "about:blank", "Internal error", "The server failed to complete the request; it has been logged."),
    };

    static string Describe(JsonException json)
    {
        // System.Text.Json puts the JSON path and position in its message; keep them, drop internals.
        var message = json.Message.Split(" Path: ", 2)[0];
        var where = json.Path is { Length: > 0 } path ? $" at {path}" : "";
        var line = json.LineNumber is { } l ? $" (line {l + 1}, byte {json.BytePositionInLine + 1})" : "";
        return $"{message}{where}{line}";
    }

    static ProblemDetails Problem(int status, string type, string title, string detail, string? constraint = null)
    {
        var problem = new ProblemDetails { Status = status, Type = type, Title = title, Detail = detail };
        if (constraint is not null)
        {
            problem.Extensions["constraint"] = constraint;
        }
        return problem;
    }
}
