{{- define "faultline.labels" -}}
app.kubernetes.io/name: faultline
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "faultline.selector" -}}
app.kubernetes.io/name: faultline
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The port of a proxy's listen address ("0.0.0.0:26379" -> 26379). */}}
{{- define "faultline.port" -}}
{{- regexFind "[0-9]+$" . -}}
{{- end -}}
