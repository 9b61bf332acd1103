using Xunit.Abstractions;
using Xunit.Sdk;

namespace SqueezeNext.Deployment.Tests.ComposeStack;

/// <summary>The step of a stack test: the tests of a class with <see cref="StepOrderer"/> run in this order.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class StepAttribute(int number) : Attribute
{
    public int Number { get; } = number;
}

/// <summary>Runs a class's tests in the order of their <see cref="StepAttribute"/>: each stack test builds on the one before.</summary>
public sealed class StepOrderer : ITestCaseOrderer
{
    public const string Name = "SqueezeNext.Deployment.Tests.ComposeStack.StepOrderer";
    public const string Assembly = "Deployment.Tests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(test => test.TestMethod.Method.GetCustomAttributes(typeof(StepAttribute).AssemblyQualifiedName!)
            .Single().GetConstructorArguments().Cast<int>().Single());
}
