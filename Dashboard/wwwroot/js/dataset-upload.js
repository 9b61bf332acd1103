// Resumable dataset uploads from the Datasets page with tus-js-client (window.tus, wwwroot/lib/tus-js-client):
// the file goes straight from the browser to the dashboard's /uploads endpoint in chunks, and an interrupted
// upload of the same file resumes where the server says it stopped. The page learns of progress and the end
// through its .NET object.
let current = null;

export function attach(zone, input, page, antiforgeryToken) {
    const pick = file => { if (file) start(file, page, antiforgeryToken); };
    input.addEventListener("change", () => pick(input.files[0]));
    zone.addEventListener("dragover", e => { e.preventDefault(); zone.classList.add("dragging"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", e => {
        e.preventDefault();
        zone.classList.remove("dragging");
        pick(e.dataTransfer.files[0]);
    });
}

export function abort() {
    if (current) current.abort();
    current = null;
}

async function start(file, page, antiforgeryToken) {
    if (!(await page.invokeMethodAsync("Starting", file.name, file.size))) return;
    const upload = new tus.Upload(file, {
        endpoint: "/uploads/",
        chunkSize: 8 * 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000, 10000],
        removeFingerprintOnSuccess: true,
        metadata: { filename: file.name, filetype: file.type || "application/octet-stream" },
        headers: { "RequestVerificationToken": antiforgeryToken },
        onProgress: (sent, total) => page.invokeMethodAsync("Progress", sent, total),
        onError: error => page.invokeMethodAsync("Failed", (error && error.message) || String(error)),
        onSuccess: () => {
            const id = upload.url.split("/").filter(s => s.length > 0).pop();
            page.invokeMethodAsync("Uploaded", id, file.name);
        },
    });
    current = upload;
    const previous = await upload.findPreviousUploads();
    if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
    upload.start();
}
