using System.CommandLine;
using System.Security.Cryptography;
using Concord.Commerce;
using Npgsql;

namespace Concord.Cli.Commands;

/// <summary>
/// The <c>--pg</c> option of the commands that create Concord's databases (<c>serve</c>,
/// <c>bench orders</c>): a superuser connection string of the user's server, or a throwaway local
/// cluster when it is absent.
/// </summary>
internal static class AdminServer
{
    /// <summary>The application role's password when not given: the role is created on first use.</summary>
    public const string AppPasswordVariable = "CONCORD_APP_PASSWORD";

    public static Option<string?> Option(string withoutIt) => new("--pg")
    {
        Description = $"Admin (superuser) connection string of the PostgreSQL server to use; without it, {withoutIt}",
    };

    /// <summary>The connection string, or a usage error saying why it is not one.</summary>
    public static string Parse(string pg)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(pg).ConnectionString;
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--pg is not a valid connection string: {e.Message}");
        }
    }

    /// <summary><see cref="AppPasswordVariable"/>, or a fresh random password (used only if the role does not exist yet).</summary>
    public static string AppPassword() =>
        Environment.GetEnvironmentVariable(AppPasswordVariable) is { Length: > 0 } configured
            ? configured
            : Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>
    /// Whether a failure is the server's or the login's (not a bug of ours): the connection failed,
    /// or the server refused the credentials (SQLSTATE class 28).
    /// </summary>
    public static bool IsUnusable(NpgsqlException e) =>
        e is not PostgresException postgres || postgres.SqlState.StartsWith("28", StringComparison.Ordinal);

    public static UsageException Unusable(NpgsqlException e, bool external) =>
        new($"Cannot use the PostgreSQL server: {e.Message}" +
            (external ? $" (check --pg; if the {CommerceDatabases.AppRole} role already exists, set {AppPasswordVariable} to its password)" : ""));
}
