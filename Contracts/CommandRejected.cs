namespace SqueezeNext.Contracts;

/// <summary>Event and answer: a command was invalid and was recorded as rejected; it is never retried.</summary>
/// <param name="CommandId">The command's id (the run id for submissions).</param>
/// <param name="CommandType">The command's message type ("SubmitTraining", ...).</param>
public sealed record CommandRejected(Guid CommandId, string CommandType, string Reason);
