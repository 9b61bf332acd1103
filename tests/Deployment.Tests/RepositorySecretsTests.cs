using System.Text.RegularExpressions;

namespace SqueezeNext.Deployment.Tests;

/// <summary>No credential is committed: no key files, no tokens of well-known services, no literal passwords in configuration.</summary>
[Trait("Level", "processes")]
public sealed partial class RepositorySecretsTests
{
    // Development defaults that are documented as such: RabbitMQ's guest (refused beyond loopback), the .env.example
    // placeholder, and compose's fallback for a machine without .env (its database port is not published, the broker's only on 127.0.0.1).
    private static readonly HashSet<string> DocumentedDefaults = ["guest", "change-me", "sqnxt"];

    [Fact]
    public void The_repository_holds_no_key_files_tokens_or_literal_passwords()
    {
        var files = TrackedFiles();
        Assert.True(files.Count > 100, $"git ls-files listed only {files.Count} files");
        var findings = new List<string>();
        foreach (var file in files)
        {
            var name = Path.GetFileName(file);
            if (name == ".env" || KeyFileName().IsMatch(name)) findings.Add($"{file}: a key or environment file");
            var path = Path.Combine(TestServices.RepositoryRoot, file);
            if (!File.Exists(path) || new FileInfo(path).Length > 2_000_000 || IsBinary(path)) continue;
            var text = File.ReadAllText(path);
            foreach (Match match in Token().Matches(text)) findings.Add($"{file}: {Describe(match.Value)}");
            if (!ConfigurationFile().IsMatch(name)) continue;
            foreach (Match match in LiteralPassword().Matches(text))
            {
                var value = match.Groups["value"].Value.TrimStart('-'); // ${NAME:-default}: the default is the literal
                if (!value.StartsWith('$') && !DocumentedDefaults.Contains(value)) findings.Add($"{file}: a literal {match.Groups["key"].Value} ('{value[..Math.Min(2, value.Length)]}…')");
            }
        }
        Assert.True(findings.Count == 0, "secrets in the repository:\n" + string.Join("\n", findings));
    }

    [Fact]
    public void Environment_files_with_real_values_are_ignored_by_git()
    {
        var (code, output) = ExternalProcess.Run("git", "check-ignore -q .env", TestServices.RepositoryRoot);
        Assert.True(code == 0, $".env is not ignored by git: {output}");
    }

    private static List<string> TrackedFiles()
    {
        var (code, output) = ExternalProcess.Run("git", "ls-files", TestServices.RepositoryRoot);
        Assert.True(code == 0, output);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    private static bool IsBinary(string path)
    {
        using var stream = File.OpenRead(path);
        var head = new byte[8000];
        int read = stream.Read(head);
        return head.AsSpan(0, read).Contains((byte)0);
    }

    // Only the kind and the first characters: the test's own output must not repeat a leaked secret.
    private static string Describe(string token) => $"a token-like string '{token[..Math.Min(6, token.Length)]}…'";

    [GeneratedRegex(@"^(id_rsa|id_ed25519|id_ecdsa)$|\.(pem|key|pfx|p12|jks|keystore)$", RegexOptions.IgnoreCase)]
    private static partial Regex KeyFileName();

    [GeneratedRegex(@"-----BEGIN (RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_\-]{35}|oy2[a-z0-9]{43}|sk-[A-Za-z0-9]{32,}")]
    private static partial Regex Token();

    [GeneratedRegex(@"\.(json|ya?ml|conf|config|ini|properties|toml)$|^\.env", RegexOptions.IgnoreCase)]
    private static partial Regex ConfigurationFile();

    // "Password": "x", password: x, PASSWORD=x, and Password=x; inside a connection string.
    [GeneratedRegex(@"(?<key>password|passwd|secret|token|api[_-]?key)[""']?[ \t]*[:=][ \t]*[""']?(?<value>[^""'\s;,}]+)", RegexOptions.IgnoreCase)]
    private static partial Regex LiteralPassword();
}
