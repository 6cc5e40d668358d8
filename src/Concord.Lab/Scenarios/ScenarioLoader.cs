using System.Text;
using Concord.Core;
using Concord.Experiments.Commerce;

namespace Concord.Lab.Scenarios;

/// <summary>
/// Reads scenario files (YAML, schema in docs/lab.md) into <see cref="PlatformScenario"/>. Every
/// mistake is reported at once, each with file, line, column and field path, as a
/// <see cref="ScenarioException"/>; nothing else escapes for a user's mistake.
/// </summary>
public static class ScenarioLoader
{
    /// <summary>Scenario files are small; a larger one is almost certainly the wrong file.</summary>
    public const int FileSizeMaxBytes = 1 << 20;

    /// <summary>Strict UTF-8: a binary file is reported as such, not parsed as garbage.</summary>
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Parses YAML text; <paramref name="fileName"/> is only used to name the file in errors.</summary>
    /// <exception cref="ScenarioException">The text is not a valid scenario; lists every mistake found.</exception>
    public static PlatformScenario Parse(string yaml, string fileName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(fileName);
        var diagnostics = new ScenarioDiagnostics(fileName);
        if (Encoding.UTF8.GetByteCount(yaml) > FileSizeMaxBytes)
        {
            throw Problem(fileName, TooLarge);
        }

        // Editors on Windows may start the file with a byte order mark; YamlDotNet would read it as part of the first key.
        var root = YamlSource.Load(yaml.StartsWith('\uFEFF') ? yaml[1..] : yaml, diagnostics);
        var scenario = root is null ? null : ScenarioReader.Read(root, diagnostics);
        diagnostics.ThrowIfAny();
        Invariant.Assert(scenario is not null, "a scenario that fails to read reports why");
        return scenario;
    }

    /// <summary>Reads and parses a scenario file; errors name <paramref name="path"/> as given.</summary>
    /// <exception cref="ScenarioException">The file is missing, unreadable, too large or not a valid scenario.</exception>
    public static PlatformScenario LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(ReadText(path), path);
    }

    static string TooLarge => $"is larger than {FileSizeMaxBytes / (1 << 20)} MiB; a scenario file is a few kilobytes of YAML";

    static string ReadText(string path)
    {
        string problem;
        try
        {
            if (Directory.Exists(path))
            {
                throw Problem(path, "is a directory, not a scenario file");
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);

            // Read at most one byte past the limit, so a huge file (or a device) costs nothing.
            var buffer = new byte[FileSizeMaxBytes + 1];
            var length = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (length > FileSizeMaxBytes)
            {
                throw Problem(path, TooLarge);
            }

            return StrictUtf8.GetString(buffer, 0, length);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            problem = "file not found";
        }
        catch (UnauthorizedAccessException)
        {
            problem = "cannot read the file: permission denied";
        }
        catch (DecoderFallbackException)
        {
            problem = "is not UTF-8 text; a scenario file is YAML";
        }
        catch (IOException e)
        {
            problem = $"cannot read the file: {e.Message}";
        }

        throw Problem(path, problem);
    }

    static ScenarioException Problem(string path, string message) => new([new ScenarioError(path, 0, 0, "", message)]);
}
