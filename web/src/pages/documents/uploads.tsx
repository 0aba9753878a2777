// Uploads with a visible progress bar each: the file goes out as the raw request body (streamed by
// the browser), XMLHttpRequest reports the bytes sent, and a running upload can be cancelled.
import { useCallback, useRef, useState } from "react";
import { messageOf, type UploadProgress } from "../../api.ts";

export type UploadJob = {
  key: number; name: string; loaded: number; total: number;
  state: "uploading" | "done" | "failed"; message?: string; cancel(): void;
};
type Send = (onProgress: (progress: UploadProgress) => void, signal: AbortSignal) => Promise<unknown>;

export function useUploads() {
  const [jobs, setJobs] = useState<UploadJob[]>([]);
  const nextKey = useRef(0);
  const update = (key: number, change: Partial<UploadJob>) => setJobs((all) => all.map((job) => (job.key === key ? { ...job, ...change } : job)));

  // Resolves true when the file was stored.
  const start = useCallback(async (file: File, send: Send): Promise<boolean> => {
    const key = nextKey.current++;
    const controller = new AbortController();
    setJobs((all) => [...all.filter((job) => job.state === "uploading" || all.length < 20), {
      key, name: file.name, loaded: 0, total: file.size, state: "uploading", cancel: () => controller.abort(),
    }]);
    try {
      await send((progress) => update(key, { loaded: progress.loaded, total: progress.total }), controller.signal);
      update(key, { state: "done", loaded: file.size, total: file.size });
      return true;
    } catch (error) {
      update(key, { state: "failed", message: messageOf(error) });
      return false;
    }
  }, []);
  const clear = useCallback(() => setJobs((all) => all.filter((job) => job.state === "uploading")), []);
  return { jobs, start, clear };
}

export function percentOf(job: { loaded: number; total: number }): number {
  return job.total > 0 ? Math.min(100, Math.floor((job.loaded / job.total) * 100)) : 100;
}

export function UploadList(props: { jobs: UploadJob[]; onClear(): void }) {
  if (props.jobs.length === 0) return null;
  const finished = props.jobs.some((job) => job.state !== "uploading");
  return (
    <section className="uploads" aria-label="Uploads">
      <ul className="rows">
        {props.jobs.map((job) => {
          const percent = percentOf(job);
          return (
            <li key={job.key} className="row upload">
              <div className="row-main">
                <strong>{job.name}</strong>
                <progress className="upload-bar" max={100} value={percent} aria-label={`Upload of ${job.name}`} />
                <span className={job.state === "failed" ? "upload-status failed" : "upload-status"} role={job.state === "uploading" ? undefined : "status"}>
                  {job.state === "uploading" && `${percent}% sent`}
                  {job.state === "done" && "100% · uploaded"}
                  {job.state === "failed" && `Not uploaded: ${job.message ?? "the upload failed."}`}
                </span>
              </div>
              {job.state === "uploading" && (
                <div className="row-actions">
                  <button type="button" className="button small secondary" onClick={job.cancel}>Cancel</button>
                </div>
              )}
            </li>
          );
        })}
      </ul>
      {finished && <button type="button" className="linkish" onClick={props.onClear}>Clear finished uploads</button>}
    </section>
  );
}

// A button that opens the file chooser; choosing starts the uploads at once.
export function UploadButton(props: { label: string; multiple?: boolean; accept?: string; onFiles(files: File[]): void; secondary?: boolean }) {
  return (
    <label className={props.secondary ? "button secondary file-button" : "button file-button"}>
      {props.label}
      <input type="file" className="visually-hidden" multiple={props.multiple} accept={props.accept}
        onChange={(event) => {
          const files = [...(event.target.files ?? [])];
          event.target.value = "";
          if (files.length > 0) props.onFiles(files);
        }} />
    </label>
  );
}
