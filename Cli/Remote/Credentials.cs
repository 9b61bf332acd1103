using System.Text.Json;

namespace SqueezeNext.Cli.Remote;

/// <summary>Where <c>sqnxt login</c> keeps the dashboard's address and the token: one file, readable by its owner only.</summary>
public sealed record Credentials(string Url, string Token)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>$SQNXT_CONFIG_DIR, else $XDG_CONFIG_HOME/sqnxt, else ~/.config/sqnxt.</summary>
    public static string FilePath
    {
        get
        {
            var directory = Environment.GetEnvironmentVariable("SQNXT_CONFIG_DIR") is { Length: > 0 } own ? own
                : Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? Path.Combine(xdg, "sqnxt")
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "sqnxt");
            return Path.Combine(directory, "credentials.json");
        }
    }

    public static Credentials? Load()
    {
        var path = FilePath;
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<Credentials>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new CliUsageException($"{path} is not a sqnxt credentials file ({e.Message}); run 'sqnxt login URL' again");
        }
    }

    public void Save()
    {
        var path = FilePath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        // Created readable by its owner only, before the token is written into it.
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        File.Delete(temporary);
        using (var file = new FileStream(temporary, options))
            JsonSerializer.Serialize(file, this, Json);
        File.Move(temporary, path, overwrite: true);
    }

    public static bool Delete()
    {
        var path = FilePath;
        if (!File.Exists(path)) return false;
        File.Delete(path);
        return true;
    }
}
